//! The `hikube` provider: configuration, the Kubernetes client, and the list
//! of resources and data sources.

pub mod client;
pub mod config;

use std::sync::Arc;

use async_trait::async_trait;

use crate::plugin::diag::Diagnostics;
use crate::plugin::framework::{
    ConfigureOutcome, Ctx, DataSource, DeferredReason, Provider, Resource,
};
use crate::plugin::schema::Schema;
use crate::plugin::value::Value;

pub use client::{Session, SharedSession};
use config::{Env, ProcessEnv, ProviderConfig};

/// The provider's registry address.
pub const PROVIDER_ADDRESS: &str = "registry.terraform.io/hikube/hikube";

/// The hikube provider.
pub struct HikubeProvider {
    session: SharedSession,
    env: Box<dyn Env + Send + Sync>,
}

impl HikubeProvider {
    /// A provider reading the process environment.
    pub fn new() -> Self {
        Self {
            session: SharedSession::default(),
            env: Box::new(ProcessEnv),
        }
    }
}

impl Default for HikubeProvider {
    fn default() -> Self {
        Self::new()
    }
}

#[async_trait]
impl Provider for HikubeProvider {
    fn schema(&self) -> Schema {
        config::schema()
    }

    fn resources(&self) -> Vec<Arc<dyn Resource>> {
        crate::resources::all(&self.session)
    }

    fn data_sources(&self) -> Vec<Arc<dyn DataSource>> {
        crate::resources::data_sources(&self.session)
    }

    fn validate(&self, config: &Value) -> Diagnostics {
        config::validate(config)
    }

    async fn configure(
        &self,
        _ctx: &Ctx,
        config: &Value,
        terraform_version: &str,
    ) -> ConfigureOutcome {
        if !config.is_wholly_known() {
            tracing::debug!("provider configuration holds unknown values: deferring");
            return ConfigureOutcome {
                diagnostics: Diagnostics::new(),
                deferred: Some(DeferredReason::ProviderConfigUnknown),
            };
        }
        let parsed = match ProviderConfig::from_value(config, self.env.as_ref()) {
            Ok(c) => c,
            Err(d) => {
                return ConfigureOutcome {
                    diagnostics: d,
                    deferred: None,
                };
            }
        };
        let mut diagnostics = Diagnostics::new();
        match parsed.resolve(self.env.as_ref()) {
            Ok(resolved) => {
                tracing::debug!(
                    source = %resolved.source,
                    server = resolved.server().unwrap_or(""),
                    namespace = resolved.namespace.as_deref().unwrap_or(""),
                    terraform_version,
                    "provider configured"
                );
                self.session.set(Session::new(resolved));
            }
            Err(e) => diagnostics.error("Invalid Hikube provider configuration", e.to_string()),
        }
        ConfigureOutcome {
            diagnostics,
            deferred: None,
        }
    }
}
