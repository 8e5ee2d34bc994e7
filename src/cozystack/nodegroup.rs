//! One entry of a `Kubernetes` app's `spec.nodeGroups` map, as the API
//! holds it in each Cozystack generation, and the merge patches that write
//! exactly one key of that map. Pure: no I/O (the serialized writer is in
//! `nodegroup_writer.rs`).
//!
//! What varies by version (cozystack-api.md, section 2):
//! - the per-node disk is `ephemeralStorage` up to Cozystack v1.3 and
//!   `diskSize` from v1.4 (v1.6 rejects `ephemeralStorage`);
//! - up to v1.5 Helm merges the chart's default `md0` entry into every map,
//!   so `md0` is always there and cannot be removed;
//! - every GET answers a fully defaulted entry (all fields filled).

use serde_json::{Map, Value as Json, json};

use super::ApiGeneration;
use crate::catalog::Quantity;

/// The plural of the `Kubernetes` app.
pub const KUBERNETES_PLURAL: &str = "kuberneteses";

/// The node group that Cozystack up to v1.5 merges into every cluster.
pub const DEFAULT_NODE_GROUP: &str = "md0";

/// Chart defaults of a node group entry (values.schema.json).
pub mod defaults {
    /// `minReplicas`.
    pub const MIN_REPLICAS: i64 = 0;
    /// `maxReplicas`.
    pub const MAX_REPLICAS: i64 = 10;
    /// `instanceType`.
    pub const INSTANCE_TYPE: &str = "u1.medium";
    /// `ephemeralStorage` / `diskSize`.
    pub const DISK_SIZE: &str = "20Gi";
}

/// The name of the per-node disk size field.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DiskField {
    /// `ephemeralStorage` (Cozystack up to v1.3).
    EphemeralStorage,
    /// `diskSize` (Cozystack v1.4 and later).
    DiskSize,
}

impl DiskField {
    /// The JSON key.
    pub fn key(self) -> &'static str {
        match self {
            DiskField::EphemeralStorage => "ephemeralStorage",
            DiskField::DiskSize => "diskSize",
        }
    }

    fn other(self) -> DiskField {
        match self {
            DiskField::EphemeralStorage => DiskField::DiskSize,
            DiskField::DiskSize => DiskField::EphemeralStorage,
        }
    }
}

/// Which disk field a cluster uses. The API defaults every entry, so the
/// entries already there (at least `md0` up to v1.5) say it best: any
/// `diskSize` means v1.4+ (`ephemeralStorage` may linger beside it, kept by
/// an open schema). Without entries, the chart version in `status.version`
/// decides (before 1.4: `ephemeralStorage`), and last the API generation
/// (v0: `ephemeralStorage`, v1: `diskSize`; note that v1.0 to v1.3 are
/// generation v1 yet still `ephemeralStorage`, which the two first signals
/// catch).
pub fn disk_field(cluster: &Json, generation: ApiGeneration) -> DiskField {
    let entries = cluster["spec"]["nodeGroups"].as_object();
    let has = |k: &str| entries.is_some_and(|m| m.values().any(|e| e.get(k).is_some()));
    if has("diskSize") {
        return DiskField::DiskSize;
    }
    if has("ephemeralStorage") {
        return DiskField::EphemeralStorage;
    }
    if let Some((major, minor)) = cluster["status"]["version"]
        .as_str()
        .and_then(chart_version)
    {
        return if (major, minor) < (1, 4) {
            DiskField::EphemeralStorage
        } else {
            DiskField::DiskSize
        };
    }
    match generation {
        ApiGeneration::V0 => DiskField::EphemeralStorage,
        ApiGeneration::V1 => DiskField::DiskSize,
    }
}

fn chart_version(v: &str) -> Option<(u32, u32)> {
    let mut it = v.trim_start_matches('v').split('.');
    Some((it.next()?.parse().ok()?, it.next()?.parse().ok()?))
}

/// `resources` of a node group; both set replace the instance type.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct NodeResources {
    /// vCPUs (a quantity as written).
    pub cpu: Option<String>,
    /// Memory (a quantity as written).
    pub memory: Option<String>,
}

impl NodeResources {
    /// Neither field is set.
    pub fn is_empty(&self) -> bool {
        self.cpu.is_none() && self.memory.is_none()
    }
}

/// The fields of a node group entry the `hikube_gpu_nodegroup` resource
/// owns. GPU names are resource names as sent to the API.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NodeGroupSpec {
    /// `minReplicas`.
    pub min_replicas: i64,
    /// `maxReplicas`.
    pub max_replicas: i64,
    /// `instanceType`.
    pub instance_type: String,
    /// `ephemeralStorage` / `diskSize`.
    pub disk_size: String,
    /// `roles`.
    pub roles: Vec<String>,
    /// `resources`.
    pub resources: NodeResources,
    /// `gpus[*].name`.
    pub gpus: Vec<String>,
}

impl Default for NodeGroupSpec {
    fn default() -> Self {
        Self {
            min_replicas: defaults::MIN_REPLICAS,
            max_replicas: defaults::MAX_REPLICAS,
            instance_type: defaults::INSTANCE_TYPE.into(),
            disk_size: defaults::DISK_SIZE.into(),
            roles: Vec::new(),
            resources: NodeResources::default(),
            gpus: Vec::new(),
        }
    }
}

/// A quantity as the API may return it (`"100Gi"` or `107374182400`).
fn quantity_text(v: &Json) -> Option<String> {
    match v {
        Json::String(s) => Some(s.clone()),
        Json::Number(n) => Some(n.to_string()),
        _ => None,
    }
}

/// Two quantities are the same value (`100Gi` == `107374182400`); texts
/// that do not parse compare as written.
pub fn same_quantity(a: &str, b: &str) -> bool {
    match (Quantity::parse(a), Quantity::parse(b)) {
        (Ok(x), Ok(y)) => x == y,
        _ => a == b,
    }
}

fn same_opt_quantity(a: &Option<String>, b: &Option<String>) -> bool {
    match (a, b) {
        (None, None) => true,
        (Some(a), Some(b)) => same_quantity(a, b),
        _ => false,
    }
}

impl NodeGroupSpec {
    /// The entry to write. Fields cleared by the user are sent as `null`
    /// (merge patch semantics: an absent field would keep the old value),
    /// and so is the disk field of the other generation.
    pub fn to_entry(&self, field: DiskField) -> Json {
        let mut m = Map::new();
        m.insert("minReplicas".into(), json!(self.min_replicas));
        m.insert("maxReplicas".into(), json!(self.max_replicas));
        m.insert("instanceType".into(), json!(self.instance_type));
        m.insert(field.key().into(), json!(self.disk_size));
        m.insert(field.other().key().into(), Json::Null);
        m.insert("roles".into(), json!(self.roles));
        m.insert(
            "resources".into(),
            json!({"cpu": self.resources.cpu, "memory": self.resources.memory}),
        );
        m.insert(
            "gpus".into(),
            Json::Array(self.gpus.iter().map(|g| json!({"name": g})).collect()),
        );
        Json::Object(m)
    }

    /// Read an entry as the API returns it; absent fields take the chart's
    /// defaults. `None` when the entry is not an object.
    pub fn from_entry(entry: &Json) -> Option<NodeGroupSpec> {
        let m = entry.as_object()?;
        let d = NodeGroupSpec::default();
        let disk = ["diskSize", "ephemeralStorage"]
            .iter()
            .find_map(|k| m.get(*k).and_then(quantity_text))
            .unwrap_or(d.disk_size);
        let strings = |v: Option<&Json>| -> Vec<String> {
            v.and_then(Json::as_array)
                .map(|a| {
                    a.iter()
                        .filter_map(|s| s.as_str().map(str::to_string))
                        .collect()
                })
                .unwrap_or_default()
        };
        let res = m.get("resources").cloned().unwrap_or(Json::Null);
        Some(NodeGroupSpec {
            min_replicas: m
                .get("minReplicas")
                .and_then(Json::as_i64)
                .unwrap_or(d.min_replicas),
            max_replicas: m
                .get("maxReplicas")
                .and_then(Json::as_i64)
                .unwrap_or(d.max_replicas),
            instance_type: m
                .get("instanceType")
                .and_then(Json::as_str)
                .map(str::to_string)
                .unwrap_or(d.instance_type),
            disk_size: disk,
            roles: strings(m.get("roles")),
            resources: NodeResources {
                cpu: quantity_text(&res["cpu"]),
                memory: quantity_text(&res["memory"]),
            },
            gpus: m
                .get("gpus")
                .and_then(Json::as_array)
                .map(|a| {
                    a.iter()
                        .filter_map(|g| g["name"].as_str().map(str::to_string))
                        .collect()
                })
                .unwrap_or_default(),
        })
    }

    /// Whether the API's entry holds what we wrote, on the fields we own
    /// (quantities by value, GPU names without case).
    pub fn held_by(&self, entry: &Json) -> bool {
        let Some(got) = NodeGroupSpec::from_entry(entry) else {
            return false;
        };
        got.min_replicas == self.min_replicas
            && got.max_replicas == self.max_replicas
            && got.instance_type == self.instance_type
            && same_quantity(&got.disk_size, &self.disk_size)
            && got.roles == self.roles
            && same_opt_quantity(&got.resources.cpu, &self.resources.cpu)
            && same_opt_quantity(&got.resources.memory, &self.resources.memory)
            && got.gpus.len() == self.gpus.len()
            && got
                .gpus
                .iter()
                .zip(&self.gpus)
                .all(|(a, b)| a.eq_ignore_ascii_case(b))
    }
}

/// The `nodeGroups` entry `name` of a `Kubernetes` app, if any.
pub fn entry<'a>(cluster: &'a Json, name: &str) -> Option<&'a Json> {
    cluster["spec"]["nodeGroups"]
        .get(name)
        .filter(|e| !e.is_null())
}

/// The names of all entries of a `Kubernetes` app.
pub fn entry_names(cluster: &Json) -> Vec<String> {
    cluster["spec"]["nodeGroups"]
        .as_object()
        .map(|m| m.keys().cloned().collect())
        .unwrap_or_default()
}

/// A merge patch touching only the given keys of `spec.nodeGroups`:
/// `Some(entry)` writes it, `None` removes the key.
pub fn patch<'a>(entries: impl IntoIterator<Item = (&'a str, Option<Json>)>) -> Json {
    let groups: Map<String, Json> = entries
        .into_iter()
        .map(|(k, v)| (k.to_string(), v.unwrap_or(Json::Null)))
        .collect();
    json!({"spec": {"nodeGroups": groups}})
}

#[cfg(test)]
mod tests {
    use super::*;

    fn fixture(name: &str) -> Json {
        let text = match name {
            "v0" => include_str!("test_data/kubernetes_v0.json"),
            "v1" => include_str!("test_data/kubernetes_v1.json"),
            "v1_3" => include_str!("test_data/kubernetes_v1_3.json"),
            _ => unreachable!(),
        };
        serde_json::from_str(text).unwrap()
    }

    fn gpu_workers() -> NodeGroupSpec {
        NodeGroupSpec {
            min_replicas: 1,
            max_replicas: 5,
            instance_type: "u1.xlarge".into(),
            disk_size: "100Gi".into(),
            gpus: vec!["nvidia.com/AD102GL_L40S".into()],
            ..Default::default()
        }
    }

    #[test]
    fn disk_field_follows_what_the_server_returns() {
        assert_eq!(
            disk_field(&fixture("v0"), ApiGeneration::V0),
            DiskField::EphemeralStorage
        );
        assert_eq!(
            disk_field(&fixture("v1"), ApiGeneration::V1),
            DiskField::DiskSize
        );
        // Cozystack v1.0..v1.3: generation v1, but entries still use ephemeralStorage.
        assert_eq!(
            disk_field(&fixture("v1_3"), ApiGeneration::V1),
            DiskField::EphemeralStorage
        );
        // No entries: chart version, then generation.
        let bare = json!({"spec": {"nodeGroups": {}}, "status": {"version": "1.2.1"}});
        assert_eq!(
            disk_field(&bare, ApiGeneration::V1),
            DiskField::EphemeralStorage
        );
        let bare = json!({"spec": {}, "status": {"version": "v1.4.0"}});
        assert_eq!(disk_field(&bare, ApiGeneration::V0), DiskField::DiskSize);
        assert_eq!(
            disk_field(&json!({}), ApiGeneration::V1),
            DiskField::DiskSize
        );
        assert_eq!(
            disk_field(&json!({}), ApiGeneration::V0),
            DiskField::EphemeralStorage
        );
    }

    #[test]
    fn entry_written_per_generation() {
        let e = gpu_workers().to_entry(DiskField::EphemeralStorage);
        assert_eq!(
            e,
            json!({
                "minReplicas": 1, "maxReplicas": 5, "instanceType": "u1.xlarge",
                "ephemeralStorage": "100Gi", "diskSize": null, "roles": [],
                "resources": {"cpu": null, "memory": null},
                "gpus": [{"name": "nvidia.com/AD102GL_L40S"}]
            })
        );
        let e = gpu_workers().to_entry(DiskField::DiskSize);
        assert_eq!(e["diskSize"], "100Gi");
        assert!(e["ephemeralStorage"].is_null());
    }

    #[test]
    fn entries_read_back_with_server_defaults() {
        let v1 = fixture("v1");
        let spec = NodeGroupSpec::from_entry(entry(&v1, "gpu-workers").unwrap()).unwrap();
        assert_eq!(spec.disk_size, "107374182400");
        assert!(gpu_workers().held_by(entry(&v1, "gpu-workers").unwrap()));
        let md0 = NodeGroupSpec::from_entry(entry(&v1, "md0").unwrap()).unwrap();
        assert_eq!(md0.roles, vec!["ingress-nginx".to_string()]);
        assert_eq!(md0.instance_type, "u1.medium");
        // Defaults for what the server left out.
        assert_eq!(
            NodeGroupSpec::from_entry(&json!({})).unwrap(),
            NodeGroupSpec::default()
        );
        assert!(NodeGroupSpec::from_entry(&json!("x")).is_none());
        let v0 = fixture("v0");
        let sized = NodeGroupSpec::from_entry(entry(&v0, "cpu-pool").unwrap()).unwrap();
        assert_eq!(
            sized.resources,
            NodeResources {
                cpu: Some("8".into()),
                memory: Some("32Gi".into())
            }
        );
        assert_eq!(sized.disk_size, "50Gi");
    }

    #[test]
    fn held_by_compares_owned_fields_by_value() {
        let want = gpu_workers();
        let mut e = want.to_entry(DiskField::DiskSize);
        e["diskSize"] = json!(107374182400u64);
        e["gpus"] = json!([{"name": "NVIDIA.COM/AD102GL_L40S"}]);
        e["storageClass"] = json!("replicated"); // not ours
        e["resources"] = json!({});
        assert!(want.held_by(&e));
        e["maxReplicas"] = json!(6);
        assert!(!want.held_by(&e));
        let mut sized = want.clone();
        sized.resources = NodeResources {
            cpu: Some("8".into()),
            memory: Some("32Gi".into()),
        };
        let mut e = sized.to_entry(DiskField::DiskSize);
        e["resources"] = json!({"cpu": 8, "memory": "32768Mi"});
        assert!(sized.held_by(&e));
        e["resources"] = json!({"cpu": 8});
        assert!(!sized.held_by(&e));
    }

    #[test]
    fn patch_touches_only_the_named_keys() {
        let p = patch([
            ("gpu-workers", Some(json!({"minReplicas": 1}))),
            ("old", None),
        ]);
        assert_eq!(
            p,
            json!({"spec": {"nodeGroups": {"gpu-workers": {"minReplicas": 1}, "old": null}}})
        );
        assert_eq!(p["spec"].as_object().unwrap().len(), 1);
    }

    #[test]
    fn entries_and_names() {
        let v1 = fixture("v1");
        let mut names = entry_names(&v1);
        names.sort();
        assert_eq!(names, vec!["gpu-workers", "md0"]);
        assert!(entry(&v1, "nope").is_none());
        assert!(entry(&json!({"spec": {"nodeGroups": {"x": null}}}), "x").is_none());
    }
}
