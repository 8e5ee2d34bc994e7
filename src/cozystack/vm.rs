//! The GPU VM model and its mapping onto each Cozystack generation:
//! `VirtualMachine` (v0.x, with `systemDisk`) or `VMDisk` + `VMInstance`
//! (v1.x). Pure functions, tested with JSON fixtures.
//!
//! The seed documentation writes `systemDisk.size`; the chart's key is
//! `storage` (a `size` key is silently ignored). We always send `storage`.

use serde_json::{Map, Value as Json, json};

use super::APPS_GROUP_VERSION;
use super::client::ApiGeneration;

/// Custom sizing.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Resources {
    /// vCPU cores (per socket).
    pub cpu: Option<String>,
    /// Sockets.
    pub sockets: Option<String>,
    /// Memory.
    pub memory: Option<String>,
}

/// The boot disk.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Disk {
    /// Size (`storage` in the API).
    pub size: Option<String>,
    /// Storage class (immutable).
    pub storage_class: Option<String>,
    /// Image (immutable).
    pub image: Option<String>,
}

/// The spec of a GPU VM, independent of the API generation.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct VmSpec {
    /// Instance type; `None` with `resources` means custom sizing.
    pub instance_type: Option<String>,
    /// Instance profile (preference).
    pub instance_profile: Option<String>,
    /// Custom sizing.
    pub resources: Option<Resources>,
    /// GPU resource names, one entry per GPU.
    pub gpus: Vec<String>,
    /// Boot disk.
    pub disk: Disk,
    /// Running.
    pub running: bool,
    /// Exposed with a LoadBalancer Service.
    pub external: bool,
    /// `PortList` or `WholeIP`.
    pub external_method: Option<String>,
    /// Ports for `PortList`.
    pub external_ports: Option<Vec<i64>>,
    /// SSH public keys.
    pub ssh_keys: Option<Vec<String>>,
    /// cloud-init user data.
    pub cloud_init: Option<String>,
    /// cloud-init seed.
    pub cloud_init_seed: Option<String>,
}

/// Chart defaults, used when a field is absent from a response.
pub const DEFAULT_INSTANCE_TYPE: &str = "u1.medium";
/// Default preference.
pub const DEFAULT_PROFILE: &str = "ubuntu";
/// Default disk size.
pub const DEFAULT_DISK_SIZE: &str = "5Gi";
/// Default storage class.
pub const DEFAULT_STORAGE_CLASS: &str = "replicated";
/// Default image.
pub const DEFAULT_IMAGE: &str = "ubuntu";

/// Plural names.
pub const VIRTUAL_MACHINES: &str = "virtualmachines";
/// VMInstance plural.
pub const VM_INSTANCES: &str = "vminstances";
/// VMDisk plural.
pub const VM_DISKS: &str = "vmdisks";

/// The plural of the VM object of a generation.
pub fn vm_plural(g: ApiGeneration) -> &'static str {
    match g {
        ApiGeneration::V0 => VIRTUAL_MACHINES,
        ApiGeneration::V1 => VM_INSTANCES,
    }
}

/// The kind of the VM object of a generation.
pub fn vm_kind(g: ApiGeneration) -> &'static str {
    match g {
        ApiGeneration::V0 => "VirtualMachine",
        ApiGeneration::V1 => "VMInstance",
    }
}

/// The name of the Service Cozystack creates for an external VM.
pub fn service_name(g: ApiGeneration, name: &str) -> String {
    match g {
        ApiGeneration::V0 => format!("virtual-machine-{name}"),
        ApiGeneration::V1 => format!("vm-instance-{name}"),
    }
}

/// The boot disk (`VMDisk`) of a v1 VM has the VM's own name: the two apps
/// become the HelmReleases `vm-disk-<name>` and `vm-instance-<name>`, so a
/// name valid for the VMInstance (<= 41) is valid for the disk (<= 45).
pub fn disk_name(vm_name: &str) -> String {
    vm_name.to_string()
}

/// The label on every object this provider creates.
pub const MANAGED_BY: (&str, &str) = ("app.kubernetes.io/managed-by", "terraform-provider-hikube");

/// Annotation keeping the GPU names as the user wrote them (`L40S`), so that
/// an import reports the user's spelling rather than the resource name.
pub const GPU_SPELLING: &str = "hikube.terraform.io/gpu-names";

fn meta(name: &str, namespace: &str, marker: Option<(&str, &str)>) -> Json {
    let mut m = json!({
        "name": name,
        "namespace": namespace,
        "labels": { MANAGED_BY.0: MANAGED_BY.1 },
    });
    if let Some((k, v)) = marker {
        m["annotations"] = json!({ k: v });
    }
    m
}

/// Record the user's GPU spellings on an object (create or patch body).
pub fn annotate_gpu_spelling(obj: &mut Json, user_names: &[String]) {
    let text = serde_json::to_string(user_names).expect("strings serialize");
    if !obj["metadata"].is_object() {
        obj["metadata"] = json!({});
    }
    if !obj["metadata"]["annotations"].is_object() {
        obj["metadata"]["annotations"] = json!({});
    }
    obj["metadata"]["annotations"][GPU_SPELLING] = json!(text);
}

/// The user's GPU spellings recorded on an object, if any.
pub fn gpu_spelling(obj: &Json) -> Option<Vec<String>> {
    obj["metadata"]["annotations"][GPU_SPELLING]
        .as_str()
        .and_then(|s| serde_json::from_str(s).ok())
}

/// Whether an object carries our managed-by label.
pub fn is_ours(obj: &Json) -> bool {
    obj["metadata"]["labels"][MANAGED_BY.0] == MANAGED_BY.1
}

fn common_spec(s: &VmSpec) -> Map<String, Json> {
    let mut spec = Map::new();
    match (&s.instance_type, &s.resources) {
        (Some(t), _) => {
            spec.insert("instanceType".into(), json!(t));
        }
        // Custom sizing: the chart defaults instanceType to u1.medium, so an
        // explicit empty string is what selects `resources`.
        (None, Some(_)) => {
            spec.insert("instanceType".into(), json!(""));
        }
        (None, None) => {}
    }
    if let Some(p) = &s.instance_profile {
        spec.insert("instanceProfile".into(), json!(p));
    }
    if let Some(r) = &s.resources {
        let mut m = Map::new();
        for (k, v) in [
            ("cpu", &r.cpu),
            ("sockets", &r.sockets),
            ("memory", &r.memory),
        ] {
            if let Some(v) = v {
                m.insert(k.into(), json!(v));
            }
        }
        spec.insert("resources".into(), Json::Object(m));
    }
    spec.insert(
        "gpus".into(),
        Json::Array(s.gpus.iter().map(|g| json!({ "name": g })).collect()),
    );
    spec.insert("external".into(), json!(s.external));
    if let Some(m) = &s.external_method {
        spec.insert("externalMethod".into(), json!(m));
    }
    if let Some(p) = &s.external_ports {
        spec.insert("externalPorts".into(), json!(p));
    }
    if let Some(k) = &s.ssh_keys {
        spec.insert("sshKeys".into(), json!(k));
    }
    if let Some(c) = &s.cloud_init {
        spec.insert("cloudInit".into(), json!(c));
    }
    if let Some(c) = &s.cloud_init_seed {
        spec.insert("cloudInitSeed".into(), json!(c));
    }
    spec
}

fn disk_storage(d: &Disk) -> (String, String, String) {
    (
        d.size.clone().unwrap_or_else(|| DEFAULT_DISK_SIZE.into()),
        d.storage_class
            .clone()
            .unwrap_or_else(|| DEFAULT_STORAGE_CLASS.into()),
        d.image.clone().unwrap_or_else(|| DEFAULT_IMAGE.into()),
    )
}

/// v0: the all-in-one `VirtualMachine` object.
pub fn virtual_machine(
    name: &str,
    namespace: &str,
    s: &VmSpec,
    marker: Option<(&str, &str)>,
) -> Json {
    let mut spec = common_spec(s);
    spec.insert("running".into(), json!(s.running));
    let (size, class, image) = disk_storage(&s.disk);
    spec.insert(
        "systemDisk".into(),
        json!({"storage": size, "storageClass": class, "image": image}),
    );
    json!({
        "apiVersion": APPS_GROUP_VERSION,
        "kind": "VirtualMachine",
        "metadata": meta(name, namespace, marker),
        "spec": spec,
    })
}

/// v1: the boot disk.
pub fn vm_disk(name: &str, namespace: &str, s: &VmSpec, marker: Option<(&str, &str)>) -> Json {
    let (size, class, image) = disk_storage(&s.disk);
    json!({
        "apiVersion": APPS_GROUP_VERSION,
        "kind": "VMDisk",
        "metadata": meta(&disk_name(name), namespace, marker),
        "spec": {"source": {"image": {"name": image}}, "storage": size, "storageClass": class},
    })
}

/// v1: the instance, booting from its disk.
pub fn vm_instance(name: &str, namespace: &str, s: &VmSpec, marker: Option<(&str, &str)>) -> Json {
    let mut spec = common_spec(s);
    spec.insert(
        "runStrategy".into(),
        json!(if s.running { "Always" } else { "Halted" }),
    );
    spec.insert("disks".into(), json!([{ "name": disk_name(name) }]));
    json!({
        "apiVersion": APPS_GROUP_VERSION,
        "kind": "VMInstance",
        "metadata": meta(name, namespace, marker),
        "spec": spec,
    })
}

/// The merge patch turning the VM object's spec from `old` into `new`
/// (fields we manage only; `null` removes a field so the chart default
/// applies again).
pub fn vm_spec_patch(g: ApiGeneration, new: &VmSpec) -> Json {
    let mut spec = common_spec(new);
    for k in [
        "instanceType",
        "instanceProfile",
        "resources",
        "externalMethod",
        "externalPorts",
        "sshKeys",
        "cloudInit",
        "cloudInitSeed",
    ] {
        spec.entry(k.to_string()).or_insert(Json::Null);
    }
    if new.instance_type.is_none() && new.resources.is_none() {
        spec.insert("instanceType".into(), Json::Null);
    }
    if new.resources.is_some() {
        // Replace, not merge, the resources object.
        let r = spec.get("resources").cloned().unwrap_or(Json::Null);
        let mut full = json!({"cpu": null, "sockets": null, "memory": null});
        if let Json::Object(m) = r {
            for (k, v) in m {
                full[k] = v;
            }
        }
        spec.insert("resources".into(), full);
    }
    match g {
        ApiGeneration::V0 => {
            spec.insert("running".into(), json!(new.running));
            if let Some(size) = &new.disk.size {
                spec.insert("systemDisk".into(), json!({ "storage": size }));
            }
        }
        ApiGeneration::V1 => {
            spec.insert(
                "runStrategy".into(),
                json!(if new.running { "Always" } else { "Halted" }),
            );
        }
    }
    json!({ "spec": spec })
}

fn str_field(spec: &Json, k: &str) -> Option<String> {
    spec[k].as_str().map(str::to_string)
}

fn quantity_text(v: &Json) -> Option<String> {
    match v {
        Json::String(s) => Some(s.clone()),
        Json::Number(n) => Some(n.to_string()),
        _ => None,
    }
}

/// Read a VM back from its API object(s): the VM object, and on v1 its
/// boot disk (when found).
pub fn parse_vm(g: ApiGeneration, vm: &Json, disk: Option<&Json>) -> VmSpec {
    let spec = &vm["spec"];
    let resources = spec["resources"]
        .as_object()
        .filter(|m| !m.is_empty())
        .map(|m| Resources {
            cpu: m.get("cpu").and_then(quantity_text),
            sockets: m.get("sockets").and_then(quantity_text),
            memory: m.get("memory").and_then(quantity_text),
        });
    let instance_type = match spec["instanceType"].as_str() {
        Some("") => None,
        Some(t) => Some(t.to_string()),
        None if resources.is_some() => None,
        None => Some(DEFAULT_INSTANCE_TYPE.to_string()),
    };
    let running = match g {
        ApiGeneration::V0 => spec["running"].as_bool().unwrap_or(true),
        ApiGeneration::V1 => spec["runStrategy"]
            .as_str()
            .map(|s| s != "Halted")
            .unwrap_or_else(|| spec["running"].as_bool().unwrap_or(true)),
    };
    let disk = match g {
        ApiGeneration::V0 => {
            let d = &spec["systemDisk"];
            Disk {
                size: d
                    .get("storage")
                    .and_then(quantity_text)
                    .or_else(|| Some(DEFAULT_DISK_SIZE.into())),
                storage_class: d["storageClass"]
                    .as_str()
                    .map(str::to_string)
                    .or_else(|| Some(DEFAULT_STORAGE_CLASS.into())),
                image: d["image"]
                    .as_str()
                    .map(str::to_string)
                    .or_else(|| Some(DEFAULT_IMAGE.into())),
            }
        }
        ApiGeneration::V1 => match disk {
            Some(d) => Disk {
                size: d["spec"]
                    .get("storage")
                    .and_then(quantity_text)
                    .or_else(|| Some(DEFAULT_DISK_SIZE.into())),
                storage_class: d["spec"]["storageClass"]
                    .as_str()
                    .map(str::to_string)
                    .or_else(|| Some(DEFAULT_STORAGE_CLASS.into())),
                image: d["spec"]["source"]["image"]["name"]
                    .as_str()
                    .map(str::to_string),
            },
            None => Disk::default(),
        },
    };
    VmSpec {
        instance_type,
        instance_profile: str_field(spec, "instanceProfile")
            .or_else(|| Some(DEFAULT_PROFILE.into())),
        resources,
        gpus: spec["gpus"]
            .as_array()
            .map(|a| {
                a.iter()
                    .filter_map(|g| g["name"].as_str().map(str::to_string))
                    .collect()
            })
            .unwrap_or_default(),
        disk,
        running,
        external: spec["external"].as_bool().unwrap_or(false),
        external_method: str_field(spec, "externalMethod").or_else(|| Some("PortList".into())),
        external_ports: Some(
            spec["externalPorts"]
                .as_array()
                .map(|a| a.iter().filter_map(|p| p.as_i64()).collect())
                .unwrap_or_else(|| vec![22]),
        ),
        ssh_keys: spec["sshKeys"].as_array().map(|a| {
            a.iter()
                .filter_map(|k| k.as_str().map(str::to_string))
                .collect()
        }),
        cloud_init: str_field(spec, "cloudInit").filter(|s| !s.is_empty()),
        cloud_init_seed: str_field(spec, "cloudInitSeed").filter(|s| !s.is_empty()),
    }
}

/// The external IP from a LoadBalancer Service, when assigned.
pub fn external_ip(service: &Json) -> Option<String> {
    service["status"]["loadBalancer"]["ingress"]
        .as_array()?
        .iter()
        .find_map(|i| {
            i["ip"]
                .as_str()
                .or_else(|| i["hostname"].as_str())
                .map(str::to_string)
        })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn workstation() -> VmSpec {
        VmSpec {
            instance_type: Some("u1.2xlarge".into()),
            instance_profile: Some("ubuntu".into()),
            gpus: vec!["nvidia.com/GA100_A100_PCIE_80GB".into()],
            disk: Disk {
                size: Some("200Gi".into()),
                storage_class: Some("replicated".into()),
                image: Some("ubuntu".into()),
            },
            running: true,
            external: true,
            external_method: Some("PortList".into()),
            external_ports: Some(vec![22, 8888]),
            cloud_init: Some("#cloud-config\n".into()),
            ..Default::default()
        }
    }

    #[test]
    fn v0_uses_system_disk_storage_not_size() {
        let o = virtual_machine("ai", "tenant-root", &workstation(), None);
        assert_eq!(o["kind"], "VirtualMachine");
        assert_eq!(o["spec"]["systemDisk"]["storage"], "200Gi");
        assert!(o["spec"]["systemDisk"].get("size").is_none());
        assert_eq!(o["spec"]["running"], true);
        assert_eq!(
            o["spec"]["gpus"][0]["name"],
            "nvidia.com/GA100_A100_PCIE_80GB"
        );
        assert_eq!(o["spec"]["externalPorts"], json!([22, 8888]));
    }

    #[test]
    fn v1_splits_disk_and_instance() {
        let s = workstation();
        let d = vm_disk("ai", "tenant-root", &s, Some(("m", "1")));
        let i = vm_instance("ai", "tenant-root", &s, None);
        assert_eq!(d["kind"], "VMDisk");
        assert_eq!(d["spec"]["source"]["image"]["name"], "ubuntu");
        assert_eq!(d["spec"]["storage"], "200Gi");
        assert_eq!(d["metadata"]["annotations"]["m"], "1");
        assert_eq!(i["kind"], "VMInstance");
        assert_eq!(i["spec"]["disks"], json!([{"name": "ai"}]));
        assert_eq!(i["spec"]["runStrategy"], "Always");
        assert!(i["spec"].get("running").is_none());
    }

    #[test]
    fn custom_sizing_sends_an_empty_instance_type() {
        let s = VmSpec {
            resources: Some(Resources {
                cpu: Some("8".into()),
                sockets: Some("1".into()),
                memory: Some("32Gi".into()),
            }),
            ..Default::default()
        };
        let o = vm_instance("c", "ns", &s, None);
        assert_eq!(o["spec"]["instanceType"], "");
        assert_eq!(o["spec"]["resources"]["memory"], "32Gi");
    }

    #[test]
    fn round_trip_through_the_api_shape() {
        for g in [ApiGeneration::V0, ApiGeneration::V1] {
            let s = workstation();
            let (vm, disk) = match g {
                ApiGeneration::V0 => (virtual_machine("a", "n", &s, None), None),
                ApiGeneration::V1 => (
                    vm_instance("a", "n", &s, None),
                    Some(vm_disk("a", "n", &s, None)),
                ),
            };
            assert_eq!(parse_vm(g, &vm, disk.as_ref()), s, "{g:?}");
        }
    }

    #[test]
    fn server_defaults_are_read_as_values() {
        let vm = json!({"spec": {"instanceType": "u1.medium", "gpus": [], "external": false, "externalPorts": [22], "runStrategy": "Halted"}});
        let s = parse_vm(ApiGeneration::V1, &vm, None);
        assert_eq!(s.instance_type.as_deref(), Some("u1.medium"));
        assert!(!s.running);
        assert_eq!(s.external_ports, Some(vec![22]));
    }

    #[test]
    fn patch_removes_unset_fields_and_replaces_resources() {
        let s = VmSpec {
            resources: Some(Resources {
                cpu: Some("4".into()),
                sockets: None,
                memory: Some("16Gi".into()),
            }),
            running: false,
            ..Default::default()
        };
        let p = vm_spec_patch(ApiGeneration::V1, &s);
        assert_eq!(p["spec"]["instanceType"], "");
        assert_eq!(
            p["spec"]["resources"],
            json!({"cpu": "4", "sockets": null, "memory": "16Gi"})
        );
        assert_eq!(p["spec"]["runStrategy"], "Halted");
        assert_eq!(p["spec"]["cloudInit"], Json::Null);
    }

    #[test]
    fn external_ip_from_service_status() {
        let svc = json!({"status": {"loadBalancer": {"ingress": [{"ip": "192.0.2.10"}]}}});
        assert_eq!(external_ip(&svc).as_deref(), Some("192.0.2.10"));
        assert_eq!(external_ip(&json!({})), None);
    }
}
