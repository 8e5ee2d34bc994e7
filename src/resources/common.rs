//! What the resource modules share: namespaces, timeouts, waiting for an
//! app to become Ready, the cluster's GPU and instance-type offers, and the
//! bridge from catalog findings to Terraform diagnostics.

use std::sync::Arc;
use std::time::Duration;

use serde_json::Value as Json;
use tokio_util::sync::CancellationToken;

use crate::catalog::{self, Finding, InstanceType, Known, OfferedGpu};
use crate::cozystack::{CORE_GROUP_VERSION, CozyClient, CozyError};
use crate::plugin::diag::{AttrPath, Diagnostic, Diagnostics, PathStep};
use crate::plugin::schema::parse_duration;
use crate::plugin::value::Value;
use crate::provider::{Session, SharedSession};

/// Turn catalog findings into diagnostics, with their attribute paths.
pub fn findings_to_diags(findings: Vec<Finding>) -> Diagnostics {
    let mut d = Diagnostics::new();
    for f in findings {
        let path = AttrPath(
            f.path
                .iter()
                .map(|s| match s {
                    catalog::PathStep::Attr(a) => PathStep::Attr(a.clone()),
                    catalog::PathStep::Index(i) => PathStep::Index(*i as i64),
                })
                .collect(),
        );
        let diag = match f.severity {
            catalog::Severity::Error => Diagnostic::error(f.summary, f.detail),
            catalog::Severity::Warning => Diagnostic::warning(f.summary, f.detail),
        };
        d.push(if path.0.is_empty() {
            diag
        } else {
            diag.at(path)
        });
    }
    d
}

/// A Terraform string as a catalog tri-state.
pub fn known_str(v: &Value) -> Known<String> {
    match v {
        Value::Unknown(_) => Known::Unknown,
        Value::Null => Known::Null,
        v => v
            .as_str()
            .map(|s| Known::Value(s.to_string()))
            .unwrap_or(Known::Null),
    }
}

/// A Terraform number as a catalog tri-state.
pub fn known_i64(v: &Value) -> Known<i64> {
    match v {
        Value::Unknown(_) => Known::Unknown,
        Value::Null => Known::Null,
        v => v.as_i64().map(Known::Value).unwrap_or(Known::Null),
    }
}

/// `gpus = [{ name = ... }]` as a catalog tri-state list.
pub fn known_gpus(v: &Value) -> Known<Vec<Known<String>>> {
    match v {
        Value::Unknown(_) => Known::Unknown,
        Value::Null => Known::Null,
        v => match v.as_list() {
            Some(items) => Known::Value(items.iter().map(|i| known_str(i.get("name"))).collect()),
            None => Known::Null,
        },
    }
}

/// The GPU names of a `gpus` value, in order (known values only).
pub fn gpu_names(v: &Value) -> Vec<String> {
    v.as_list()
        .map(|l| {
            l.iter()
                .filter_map(|g| g.get("name").as_str().map(str::to_string))
                .collect()
        })
        .unwrap_or_default()
}

/// The `gpus` attribute value from a list of names.
pub fn gpus_value(names: &[String]) -> Value {
    Value::List(
        names
            .iter()
            .map(|n| Value::object([("name", Value::string(n.clone()))]))
            .collect(),
    )
}

/// The configured session, or a diagnostic saying the provider is not configured.
pub fn session(shared: &SharedSession) -> Result<Arc<Session>, Diagnostics> {
    shared
        .get()
        .map_err(|e| api_diag("Provider not configured", &e))
}

/// The session's API client and the Cozystack API generation, or the
/// diagnostics saying why the cluster cannot be used.
pub async fn connect(
    session: &Session,
) -> Result<(&CozyClient, crate::cozystack::ApiGeneration), Diagnostics> {
    let client = session
        .client()
        .await
        .map_err(|e| api_diag("Cannot reach the Kubernetes API", &e))?;
    let generation = client
        .generation()
        .await
        .map_err(|e| api_diag("Cannot discover the Cozystack API", &e))?;
    Ok((client, generation))
}

/// The namespace for a resource: its own, else the provider's.
pub fn namespace(config_ns: &Value, session: &Session) -> Result<String, Diagnostics> {
    if let Some(ns) = config_ns.as_str() {
        return Ok(ns.to_string());
    }
    session.namespace().map(str::to_string).ok_or_else(|| {
        Diagnostic::error(
            "No namespace",
            "Neither the resource nor the provider names a tenant namespace. Fix: set `namespace` on the resource, \
             or `namespace` in the provider block (or HIKUBE_NAMESPACE), e.g. \"tenant-root\".",
        )
        .at(AttrPath::root("namespace"))
        .into()
    })
}

/// A diagnostic for an API failure.
pub fn api_diag(summary: &str, e: &CozyError) -> Diagnostics {
    Diagnostic::error(summary, e.to_string()).into()
}

/// Operation timeouts from a `timeouts` block.
#[derive(Debug, Clone, Copy)]
pub struct Timeouts {
    /// Create.
    pub create: Duration,
    /// Update.
    pub update: Duration,
    /// Delete.
    pub delete: Duration,
}

impl Timeouts {
    /// Read the block, falling back to the defaults.
    pub fn from_value(block: &Value, defaults: Timeouts) -> Timeouts {
        let get = |name: &str, d: Duration| {
            block
                .get(name)
                .as_str()
                .and_then(|s| parse_duration(s).ok())
                .unwrap_or(d)
        };
        Timeouts {
            create: get("create", defaults.create),
            update: get("update", defaults.update),
            delete: get("delete", defaults.delete),
        }
    }

    /// Offline validation of the block.
    pub fn validate(block: &Value) -> Diagnostics {
        let mut d = Diagnostics::new();
        for op in ["create", "update", "delete", "read"] {
            if let Some(s) = block.get(op).as_str()
                && let Err(e) = parse_duration(s)
            {
                d.error_at(
                    AttrPath::root("timeouts").attr(op),
                    "Invalid timeout",
                    format!("{e}. Fix: write a duration such as \"30m\"."),
                );
            }
        }
        d
    }
}

/// The Ready condition of an app.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Readiness {
    /// `Ready` is `True`.
    pub ready: bool,
    /// The condition's status (`True`, `False`, `Unknown`, or empty).
    pub status: String,
    /// The condition's message.
    pub message: String,
    /// `status.version`.
    pub version: String,
}

/// Read readiness from an app object.
pub fn readiness(obj: &Json) -> Readiness {
    let cond = obj["status"]["conditions"]
        .as_array()
        .and_then(|c| c.iter().find(|c| c["type"] == "Ready"));
    let status = cond
        .and_then(|c| c["status"].as_str())
        .unwrap_or("")
        .to_string();
    Readiness {
        ready: status == "True",
        message: cond
            .and_then(|c| c["message"].as_str())
            .unwrap_or("")
            .to_string(),
        status,
        version: obj["status"]["version"].as_str().unwrap_or("").to_string(),
    }
}

/// How waiting for Ready ended.
#[derive(Debug)]
pub enum WaitOutcome {
    /// Ready=True.
    Ready(Json),
    /// Ready=False: the chart failed (the message says why).
    Failed(Json, String),
    /// The object disappeared.
    Gone,
}

/// Wait for an app to report Ready=True. After an update (`after_change`),
/// a Ready=True seen at once may be the previous generation's: wait a short
/// settle window for the controller to pick the change up first.
pub async fn wait_ready(
    client: &CozyClient,
    path: &str,
    timeout: Duration,
    after_change: bool,
    cancel: &CancellationToken,
) -> Result<WaitOutcome, CozyError> {
    let start = tokio::time::Instant::now();
    let settle = Duration::from_millis(1500);
    let mut left_ready = !after_change;
    let mut interval = Duration::from_millis(150);
    loop {
        let Some(obj) = client.get_opt(path).await? else {
            return Ok(WaitOutcome::Gone);
        };
        let r = readiness(&obj);
        if !r.ready {
            left_ready = true;
        }
        if r.ready && (left_ready || start.elapsed() >= settle) {
            return Ok(WaitOutcome::Ready(obj));
        }
        if r.status == "False" && left_ready && start.elapsed() >= Duration::from_millis(300) {
            return Ok(WaitOutcome::Failed(obj, r.message));
        }
        if start.elapsed() >= timeout {
            let msg = if r.message.is_empty() {
                "no Ready condition yet".to_string()
            } else {
                r.message
            };
            return Err(CozyError::Timeout(
                timeout,
                format!("{path} is not Ready: {msg}"),
            ));
        }
        tokio::select! {
            _ = cancel.cancelled() => return Err(CozyError::Cancelled),
            _ = tokio::time::sleep(interval) => {}
        }
        interval = (interval * 3 / 2).min(Duration::from_secs(5));
    }
}

/// What the cluster says it offers (Cozystack v1.5+ `core.cozystack.io`
/// options); `None` where it cannot tell.
#[derive(Debug, Clone, Default)]
pub struct ClusterOffers {
    /// GPU resource names nodes advertise.
    pub gpus: Option<Vec<OfferedGpu>>,
    /// Instance types.
    pub instance_types: Option<Vec<InstanceType>>,
}

fn option_items(obj: &Json) -> Vec<Json> {
    for ptr in [
        "/spec/items",
        "/items",
        "/status/items",
        "/spec/options",
        "/options",
    ] {
        if let Some(a) = obj.pointer(ptr).and_then(|v| v.as_array()) {
            return a.clone();
        }
    }
    Vec::new()
}

fn available_from(item: &Json) -> Option<u32> {
    if let Some(n) = item["available"].as_u64() {
        return u32::try_from(n).ok();
    }
    // "N available on node ..." as Cozystack writes it.
    item["description"]
        .as_str()
        .and_then(|d| d.split_whitespace().next())
        .and_then(|n| n.parse().ok())
}

/// The GPUs listed by an `options/gpu` object.
pub fn parse_gpu_options(obj: &Json) -> Vec<OfferedGpu> {
    option_items(obj)
        .iter()
        .filter_map(|i| {
            i["name"].as_str().map(|n| OfferedGpu {
                resource_name: n.to_string(),
                available: available_from(i),
            })
        })
        .collect()
}

/// The instance types listed by an `options/instancetype` object. A type
/// the built-in table knows to carry a GPU (gn1) keeps it: the option item
/// does not say.
pub fn parse_instancetype_options(obj: &Json) -> Vec<InstanceType> {
    let builtin = catalog::InstanceCatalog::builtin();
    option_items(obj)
        .iter()
        .filter_map(|i| {
            let name = i["name"].as_str()?;
            let vcpu = i["cpu"]
                .as_u64()
                .or_else(|| i["cpu"].as_str().and_then(|s| s.parse().ok()))?
                as u32;
            let memory = i["memory"]
                .as_str()
                .and_then(|m| catalog::Quantity::parse(m).ok())?
                .bytes()?;
            let mut t = InstanceType::new(name, vcpu, memory);
            t.gpu = builtin.get(name).and_then(|b| b.gpu.clone());
            Some(t)
        })
        .collect()
}

fn options_path(namespace: &str, name: &str) -> String {
    format!("/apis/{CORE_GROUP_VERSION}/namespaces/{namespace}/options/{name}")
}

/// The GPUs the cluster advertises (`options/gpu`); `Ok(None)` when the
/// cluster does not serve the list (404: Cozystack before v1.5).
pub async fn read_gpu_options(
    client: &CozyClient,
    namespace: &str,
) -> Result<Option<Vec<OfferedGpu>>, CozyError> {
    Ok(client
        .get_opt_cached(&options_path(namespace, "gpu"))
        .await?
        .map(|o| parse_gpu_options(&o)))
}

/// The cluster's instance types (`options/instancetype`); `Ok(None)` when
/// the cluster does not serve the list.
pub async fn read_instancetype_options(
    client: &CozyClient,
    namespace: &str,
) -> Result<Option<Vec<InstanceType>>, CozyError> {
    Ok(client
        .get_opt_cached(&options_path(namespace, "instancetype"))
        .await?
        .map(|o| parse_instancetype_options(&o)))
}

/// The cluster's offers for a namespace, read once per provider process (no
/// error: a cluster that does not serve the options simply offers no
/// information).
pub async fn cluster_offers(client: &CozyClient, namespace: &str) -> ClusterOffers {
    let gpus = read_gpu_options(client, namespace)
        .await
        .unwrap_or_else(|e| {
            tracing::debug!(error = %e, "options/gpu not available");
            None
        });
    let instance_types = read_instancetype_options(client, namespace)
        .await
        .unwrap_or_else(|e| {
            tracing::debug!(error = %e, "options/instancetype not available");
            None
        });
    ClusterOffers {
        gpus,
        instance_types,
    }
}

/// The rule context for cluster-aware checks.
pub fn rule_context(offers: &ClusterOffers) -> catalog::RuleContext {
    let instance_types = match &offers.instance_types {
        Some(t) if !t.is_empty() => catalog::InstanceCatalog::with_cluster(t.clone()),
        _ => catalog::InstanceCatalog::builtin(),
    };
    catalog::RuleContext {
        instance_types,
        offered_gpus: offers.gpus.clone(),
    }
}

/// A fresh random-enough marker for one create call.
pub fn creation_id() -> String {
    use std::time::{SystemTime, UNIX_EPOCH};
    let n = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_nanos())
        .unwrap_or(0);
    format!("{:x}-{:x}", n, std::process::id())
}

/// Apply the value of the `resources` Known tri-state for a nested object.
pub fn known_obj_is_set(v: &Value) -> bool {
    !v.is_null() && v.is_known()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn readiness_reads_the_ready_condition() {
        let obj = serde_json::json!({"status": {"version": "1.4.0", "conditions": [
            {"type": "Released", "status": "True"},
            {"type": "Ready", "status": "False", "message": "Helm install failed: bad"}]}});
        let r = readiness(&obj);
        assert!(!r.ready);
        assert_eq!(r.status, "False");
        assert_eq!(r.message, "Helm install failed: bad");
        assert_eq!(r.version, "1.4.0");
    }

    #[test]
    fn option_items_and_availability() {
        let o = serde_json::json!({"spec": {"items": [{"name": "nvidia.com/X", "description": "3 available on node a"}]}});
        let items = option_items(&o);
        assert_eq!(items.len(), 1);
        assert_eq!(available_from(&items[0]), Some(3));
    }

    #[test]
    fn instancetype_options_keep_the_builtin_gpu() {
        let o = serde_json::json!({"spec": {"items": [
            {"name": "gn1.xlarge", "cpu": 4, "memory": "16Gi"},
            {"name": "u1.large", "cpu": "2", "memory": "8Gi"},
            {"name": "broken", "cpu": 2, "memory": "lots"}]}});
        let t = parse_instancetype_options(&o);
        assert_eq!(t.len(), 2);
        assert_eq!(t[0].gpu.as_deref(), Some(catalog::instancetype::GN1_GPU));
        assert_eq!(
            (t[1].name.as_str(), t[1].vcpu, t[1].gpu.as_deref()),
            ("u1.large", 2, None)
        );
    }

    #[test]
    fn timeouts_fall_back_to_defaults() {
        let d = Timeouts {
            create: Duration::from_secs(1),
            update: Duration::from_secs(2),
            delete: Duration::from_secs(3),
        };
        let t = Timeouts::from_value(
            &Value::object([
                ("create", Value::string("5m")),
                ("update", Value::Null),
                ("delete", Value::Null),
            ]),
            d,
        );
        assert_eq!(t.create, Duration::from_secs(300));
        assert_eq!(t.update, Duration::from_secs(2));
        assert!(
            Timeouts::validate(&Value::object([("create", Value::string("soon"))])).has_errors()
        );
    }
}
