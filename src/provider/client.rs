//! The configured session: resolved settings and one Kubernetes client per
//! provider process, built on first use.

use std::sync::{Arc, RwLock};

use tokio::sync::OnceCell;

use super::config::{ConfigError, Resolved};
use crate::cozystack::{ApiGeneration, CozyClient, CozyError};

/// A configured provider: settings, and the lazily built client.
pub struct Session {
    resolved: Resolved,
    client: OnceCell<CozyClient>,
}

impl Session {
    /// A session for resolved settings (nothing is contacted yet).
    pub fn new(resolved: Resolved) -> Self {
        Self {
            resolved,
            client: OnceCell::new(),
        }
    }

    /// The default namespace, if configured.
    pub fn namespace(&self) -> Option<&str> {
        self.resolved.namespace.as_deref()
    }

    /// The API client (built once; exec plugins run at the first request).
    pub async fn client(&self) -> Result<&CozyClient, CozyError> {
        self.client
            .get_or_try_init(|| async {
                let cfg = self
                    .resolved
                    .kube_config()
                    .await
                    .map_err(|e: ConfigError| CozyError::Config(e.to_string()))?;
                let kube =
                    kube::Client::try_from(cfg).map_err(|e| CozyError::Config(e.to_string()))?;
                tracing::debug!(
                    server = self.resolved.server().unwrap_or(""),
                    "kubernetes client built"
                );
                Ok(CozyClient::new(kube))
            })
            .await
    }

    /// The Cozystack API generation (discovered once).
    pub async fn generation(&self) -> Result<ApiGeneration, CozyError> {
        self.client().await?.generation().await
    }
}

/// The session shared by all resources; empty until ConfigureProvider.
#[derive(Clone, Default)]
pub struct SharedSession(Arc<RwLock<Option<Arc<Session>>>>);

impl SharedSession {
    /// Install a session.
    pub fn set(&self, s: Session) {
        *self.0.write().expect("session lock") = Some(Arc::new(s));
    }

    /// The session, or an error saying the provider is not configured.
    pub fn get(&self) -> Result<Arc<Session>, CozyError> {
        self.0
            .read()
            .expect("session lock")
            .clone()
            .ok_or(CozyError::NotConfigured)
    }

    /// The session if configured.
    pub fn try_get(&self) -> Option<Arc<Session>> {
        self.0.read().expect("session lock").clone()
    }
}
