//! HTTP-level access to the Cozystack API through kube-rs.

use std::time::Duration;

use http::Request;
use serde_json::Value as Json;
use tokio::sync::OnceCell;
use tokio_util::sync::CancellationToken;

use super::APPS_GROUP_VERSION;

/// Errors of the Cozystack layer.
#[derive(Debug, thiserror::Error)]
pub enum CozyError {
    /// ConfigureProvider has not run.
    #[error("the hikube provider is not configured")]
    NotConfigured,
    /// The client could not be built.
    #[error("failed to build the Kubernetes client: {0}")]
    Config(String),
    /// The object exists already (Cozystack answers 500 "... already exists").
    #[error("{kind} {namespace}/{name} already exists")]
    AlreadyExists {
        /// Kind.
        kind: String,
        /// Namespace.
        namespace: String,
        /// Name.
        name: String,
    },
    /// Not found.
    #[error("{0} not found")]
    NotFound(String),
    /// The API answered an error.
    #[error("{method} {path} failed: HTTP {code}: {message}")]
    Api {
        /// Method.
        method: String,
        /// Path.
        path: String,
        /// HTTP status.
        code: u16,
        /// Server message.
        message: String,
    },
    /// Transport-level failure.
    #[error("{method} {path} failed: {source}")]
    Transport {
        /// Method.
        method: String,
        /// Path.
        path: String,
        /// Cause.
        #[source]
        source: Box<kube::Error>,
    },
    /// The API group is not served.
    #[error(
        "the cluster does not serve {APPS_GROUP_VERSION}: is this a Cozystack/Hikube cluster? ({0})"
    )]
    NoCozystack(String),
    /// Waiting was interrupted by StopProvider.
    #[error("interrupted (Terraform asked the provider to stop)")]
    Cancelled,
    /// A wait ran out of time.
    #[error("timed out after {0:?}: {1}")]
    Timeout(Duration, String),
}

impl CozyError {
    /// Whether retrying the same request may succeed.
    pub fn is_transient(&self) -> bool {
        match self {
            CozyError::Transport { .. } => true,
            CozyError::Api { code, message, .. } => {
                matches!(code, 429 | 502 | 503 | 504)
                    || (*code == 500 && !is_already_exists(message) && !is_conflict(message))
                    || (*code == 409 && is_conflict(message))
                    || (*code == 500 && is_conflict(message))
            }
            _ => false,
        }
    }

    /// Whether this is a conflict (409, or 500 wrapping one).
    pub fn is_conflict(&self) -> bool {
        matches!(self, CozyError::Api { code, message, .. } if (*code == 409 || *code == 500) && is_conflict(message))
    }

    /// Whether it is a 404.
    pub fn is_not_found(&self) -> bool {
        matches!(self, CozyError::NotFound(_)) || matches!(self, CozyError::Api { code: 404, .. })
    }
}

fn is_already_exists(msg: &str) -> bool {
    msg.contains("already exists")
}

fn is_conflict(msg: &str) -> bool {
    msg.contains("the object has been modified") || msg.contains("Operation cannot be fulfilled")
}

/// Which generation of the application API the cluster serves.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ApiGeneration {
    /// Cozystack <= v0.41: all-in-one `VirtualMachine`.
    V0,
    /// Cozystack >= v1.0: `VMInstance` + `VMDisk`.
    V1,
}

/// What discovery found.
#[derive(Debug, Clone)]
pub struct Discovery {
    /// The generation.
    pub generation: ApiGeneration,
    /// Plural resource names served in the group.
    pub resources: Vec<String>,
}

/// A client for the Cozystack API.
pub struct CozyClient {
    kube: kube::Client,
    discovery: OnceCell<Discovery>,
    /// Read-only lists (Cozystack's options), read once per provider process.
    cached: tokio::sync::Mutex<std::collections::HashMap<String, Option<Json>>>,
}

/// How many times a transient failure is retried.
const RETRIES: u32 = 6;

impl CozyClient {
    /// Wrap a kube client.
    pub fn new(kube: kube::Client) -> Self {
        Self {
            kube,
            discovery: OnceCell::new(),
            cached: tokio::sync::Mutex::new(std::collections::HashMap::new()),
        }
    }

    /// The underlying kube client.
    pub fn kube(&self) -> &kube::Client {
        &self.kube
    }

    /// Discovery, performed once per provider process.
    pub async fn discovery(&self) -> Result<&Discovery, CozyError> {
        self.discovery
            .get_or_try_init(|| async {
                let path = format!("/apis/{APPS_GROUP_VERSION}");
                let list = match self.send_retry("GET", &path, None, None).await {
                    Ok(v) => v,
                    Err(e) if e.is_not_found() => {
                        return Err(CozyError::NoCozystack("discovery answered 404".into()));
                    }
                    Err(e) => return Err(e),
                };
                let resources: Vec<String> = list["resources"]
                    .as_array()
                    .map(|a| {
                        a.iter()
                            .filter_map(|r| r["name"].as_str().map(str::to_string))
                            .collect()
                    })
                    .unwrap_or_default();
                let generation = if resources.iter().any(|r| r == "virtualmachines") {
                    ApiGeneration::V0
                } else if resources.iter().any(|r| r == "vminstances")
                    && resources.iter().any(|r| r == "vmdisks")
                {
                    ApiGeneration::V1
                } else {
                    return Err(CozyError::NoCozystack(format!(
                        "it serves neither virtualmachines nor vminstances+vmdisks (found: {})",
                        resources.join(", ")
                    )));
                };
                tracing::debug!(?generation, "discovered the Cozystack API generation");
                Ok(Discovery {
                    generation,
                    resources,
                })
            })
            .await
    }

    /// The API generation.
    pub async fn generation(&self) -> Result<ApiGeneration, CozyError> {
        Ok(self.discovery().await?.generation)
    }

    /// The path of a namespaced app object (or collection when `name` is empty).
    pub fn app_path(plural: &str, namespace: &str, name: &str) -> String {
        if name.is_empty() {
            format!("/apis/{APPS_GROUP_VERSION}/namespaces/{namespace}/{plural}")
        } else {
            format!("/apis/{APPS_GROUP_VERSION}/namespaces/{namespace}/{plural}/{name}")
        }
    }

    /// One HTTP request; non-2xx answers become [`CozyError`].
    pub async fn send(
        &self,
        method: &str,
        path: &str,
        body: Option<&Json>,
        content_type: Option<&str>,
    ) -> Result<Json, CozyError> {
        let mut req = Request::builder().method(method).uri(path);
        if body.is_some() {
            req = req.header(
                http::header::CONTENT_TYPE,
                content_type.unwrap_or("application/json"),
            );
        }
        let bytes = body
            .map(|b| serde_json::to_vec(b).expect("JSON serializes"))
            .unwrap_or_default();
        let req = req
            .body(bytes)
            .map_err(|e| CozyError::Config(e.to_string()))?;
        tracing::trace!(method, path, "API request");
        match self.kube.request::<Json>(req).await {
            Ok(v) => Ok(v),
            Err(kube::Error::Api(status)) => {
                let code = status.code;
                let message = if status.message.is_empty() {
                    status.reason.clone()
                } else {
                    status.message.clone()
                };
                tracing::debug!(method, path, code, message = %message, "API error");
                if code == 404 {
                    Err(CozyError::NotFound(path.to_string()))
                } else {
                    Err(CozyError::Api {
                        method: method.into(),
                        path: path.into(),
                        code,
                        message,
                    })
                }
            }
            Err(e) => {
                tracing::debug!(method, path, error = %e, "transport error");
                Err(CozyError::Transport {
                    method: method.into(),
                    path: path.into(),
                    source: Box::new(e),
                })
            }
        }
    }

    /// A request retried with backoff on transient failures (5xx other
    /// than AlreadyExists, conflicts, connection errors).
    pub async fn send_retry(
        &self,
        method: &str,
        path: &str,
        body: Option<&Json>,
        content_type: Option<&str>,
    ) -> Result<Json, CozyError> {
        let mut attempt = 0;
        loop {
            match self.send(method, path, body, content_type).await {
                Err(e) if e.is_transient() && attempt < RETRIES => {
                    attempt += 1;
                    let wait = backoff(attempt);
                    tracing::debug!(method, path, attempt, error = %e, ?wait, "transient API error; retrying");
                    tokio::time::sleep(wait).await;
                }
                other => return other,
            }
        }
    }

    /// GET an object; `Ok(None)` when it does not exist.
    pub async fn get_opt(&self, path: &str) -> Result<Option<Json>, CozyError> {
        match self.send_retry("GET", path, None, None).await {
            Ok(v) => Ok(Some(v)),
            Err(e) if e.is_not_found() => Ok(None),
            Err(e) => Err(e),
        }
    }

    /// GET a read-only object once per provider process (`Ok(None)`: it
    /// does not exist). Errors are not cached.
    pub async fn get_opt_cached(&self, path: &str) -> Result<Option<Json>, CozyError> {
        let mut cache = self.cached.lock().await;
        if let Some(v) = cache.get(path) {
            return Ok(v.clone());
        }
        let v = self.get_opt(path).await?;
        cache.insert(path.to_string(), v.clone());
        Ok(v)
    }

    /// GET an object that we just created: Cozystack reads go through an
    /// informer cache, so a 404 is retried for a few seconds.
    pub async fn get_after_create(&self, path: &str) -> Result<Json, CozyError> {
        for attempt in 0..20 {
            match self.get_opt(path).await? {
                Some(v) => return Ok(v),
                None => {
                    tracing::debug!(path, attempt, "not visible yet after create; retrying");
                    tokio::time::sleep(Duration::from_millis(100 + 50 * attempt)).await;
                }
            }
        }
        Err(CozyError::NotFound(path.to_string()))
    }

    /// Create an object in a collection. A transient failure may hide a
    /// create that did happen: before retrying, look for the object, and
    /// if it is there with our marker, take it (no duplicate, no orphan).
    pub async fn create(&self, collection: &str, obj: &Json) -> Result<Json, CozyError> {
        let name = obj["metadata"]["name"]
            .as_str()
            .unwrap_or_default()
            .to_string();
        let namespace = obj["metadata"]["namespace"]
            .as_str()
            .unwrap_or_default()
            .to_string();
        let kind = obj["kind"].as_str().unwrap_or_default().to_string();
        let item = format!("{collection}/{name}");
        let mut attempt = 0;
        loop {
            match self.send("POST", collection, Some(obj), None).await {
                Ok(v) => return Ok(v),
                Err(CozyError::Api { code, message, .. })
                    if code == 409 || (code == 500 && is_already_exists(&message)) =>
                {
                    // Our own earlier attempt may have landed before a
                    // transient error: recognise it by its marker.
                    if attempt > 0
                        && let Some(existing) = self.get_opt(&item).await?
                        && same_creation(&existing, obj)
                    {
                        return Ok(existing);
                    }
                    return Err(CozyError::AlreadyExists {
                        kind,
                        namespace,
                        name,
                    });
                }
                Err(e) if e.is_transient() && attempt < RETRIES => {
                    attempt += 1;
                    let wait = backoff(attempt);
                    tracing::debug!(path = collection, attempt, error = %e, "transient error on create; retrying");
                    tokio::time::sleep(wait).await;
                }
                Err(e) => return Err(e),
            }
        }
    }

    /// JSON merge patch, retried on conflicts and transient errors.
    pub async fn merge_patch(&self, path: &str, patch: &Json) -> Result<Json, CozyError> {
        self.send_retry(
            "PATCH",
            path,
            Some(patch),
            Some("application/merge-patch+json"),
        )
        .await
    }

    /// DELETE; an object already gone is success.
    pub async fn delete(&self, path: &str) -> Result<(), CozyError> {
        match self.send_retry("DELETE", path, None, None).await {
            Ok(_) => Ok(()),
            Err(e) if e.is_not_found() => Ok(()),
            Err(e) => Err(e),
        }
    }

    /// Poll until the object is gone (deletion is asynchronous).
    pub async fn wait_gone(
        &self,
        path: &str,
        timeout: Duration,
        cancel: &CancellationToken,
    ) -> Result<(), CozyError> {
        let deadline = tokio::time::Instant::now() + timeout;
        let mut interval = Duration::from_millis(200);
        loop {
            if self.get_opt(path).await?.is_none() {
                return Ok(());
            }
            if tokio::time::Instant::now() >= deadline {
                return Err(CozyError::Timeout(
                    timeout,
                    format!("{path} is still being deleted"),
                ));
            }
            tokio::select! {
                _ = cancel.cancelled() => return Err(CozyError::Cancelled),
                _ = tokio::time::sleep(interval) => {}
            }
            interval = (interval * 3 / 2).min(Duration::from_secs(5));
        }
    }
}

/// The label that marks objects created by this provider for one create
/// call, so that a retried create recognises its own earlier success.
pub const CREATION_MARKER: &str = "hikube.terraform.io/creation-id";

fn same_creation(existing: &Json, ours: &Json) -> bool {
    let mine = &ours["metadata"]["annotations"][CREATION_MARKER];
    !mine.is_null() && existing["metadata"]["annotations"][CREATION_MARKER] == *mine
}

fn backoff(attempt: u32) -> Duration {
    Duration::from_millis((100u64 << attempt.min(6)).min(5_000))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn api(code: u16, message: &str) -> CozyError {
        CozyError::Api {
            method: "PUT".into(),
            path: "/x".into(),
            code,
            message: message.into(),
        }
    }

    #[test]
    fn classifies_cozystack_error_forms() {
        assert!(api(500, "Operation cannot be fulfilled on helmreleases \"x\": the object has been modified; please apply your changes to the latest version").is_conflict());
        assert!(api(409, "the object has been modified").is_conflict());
        assert!(api(503, "unavailable").is_transient());
        assert!(api(500, "etcdserver: leader changed").is_transient());
        assert!(!api(500, "helmreleases \"vm-instance-a\" already exists").is_transient());
        assert!(!api(400, "bad").is_transient());
        assert!(!api(422, "invalid").is_transient());
    }

    #[test]
    fn creation_marker_matches_only_our_object() {
        let ours = serde_json::json!({"metadata": {"annotations": {CREATION_MARKER: "abc"}}});
        let same = serde_json::json!({"metadata": {"annotations": {CREATION_MARKER: "abc"}}});
        let other = serde_json::json!({"metadata": {"annotations": {CREATION_MARKER: "zzz"}}});
        let none = serde_json::json!({"metadata": {}});
        assert!(same_creation(&same, &ours));
        assert!(!same_creation(&other, &ours));
        assert!(!same_creation(&none, &ours));
    }
}
