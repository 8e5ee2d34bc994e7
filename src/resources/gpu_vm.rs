//! `hikube_gpu_vm`: a virtual machine with passthrough GPUs.
//!
//! The story: the schema mirrors the seed's YAML in snake_case; `validate`
//! runs the catalog's offline rules; `modify_plan` adds what only the
//! cluster knows (API generation, offered GPUs and instance types); create
//! writes a `VirtualMachine` (Cozystack v0.x) or a `VMDisk` + `VMInstance`
//! (v1.x) and waits for Ready; read reports what the user manages; update
//! patches in place; delete waits for the asynchronous uninstall; import
//! takes `<namespace>/<name>`.

use std::collections::BTreeMap;
use std::time::Duration;

use async_trait::async_trait;

use super::common::{self, Timeouts, WaitOutcome};
use crate::catalog::{self, AppKind, Known, VmInput, VmResources};
use crate::cozystack::client::CREATION_MARKER;
use crate::cozystack::vm::{self, Disk, Resources, VmSpec};
use crate::cozystack::{ApiGeneration, CozyClient, CozyError};
use crate::plugin::diag::{AttrPath, Diagnostic, Diagnostics};
use crate::plugin::framework::{Ctx, Plan, PlanRequest, Resource, StateResult};
use crate::plugin::schema::{
    Attribute, Block, IdentityAttribute, IdentitySchema, Nesting, Schema, timeouts_block,
};
use crate::plugin::value::{Type, Value};
use crate::provider::{Session, SharedSession};

/// Default timeouts: GPU VMs can take minutes to schedule and boot.
pub const DEFAULT_TIMEOUTS: Timeouts = Timeouts {
    create: Duration::from_secs(30 * 60),
    update: Duration::from_secs(30 * 60),
    delete: Duration::from_secs(15 * 60),
};

/// The resource.
pub struct GpuVm {
    session: SharedSession,
}

impl GpuVm {
    /// A resource using the provider's session.
    pub fn new(session: SharedSession) -> Self {
        Self { session }
    }
}

// ---------------------------------------------------------------------------
// Schema

fn schema() -> Schema {
    Schema::new(
        Block::new(
            "A virtual machine with passthrough NVIDIA GPUs on Hikube. On Cozystack v0.x it is a \
             `VirtualMachine` app; on v1.x a `VMDisk` (the boot disk) plus a `VMInstance`, both named \
             after the VM. The same configuration works on both; the provider discovers which API the \
             cluster serves.",
        )
        .attr(Attribute::string("id").computed().use_state_for_unknown().description("`<namespace>/<name>`."))
        .attr(Attribute::string("name").required().requires_replace().description(
            "VM name: a DNS-1035 label (lowercase letters, digits, `-`), at most 41 characters on \
             Cozystack v1.x (37 on v0.x). Changing it replaces the VM.",
        ))
        .attr(Attribute::string("namespace").optional().computed().requires_replace().use_state_for_unknown().description(
            "Tenant namespace, e.g. `tenant-root`. Default: the provider's `namespace`. Changing it replaces the VM.",
        ))
        .attr(Attribute::string("instance_type").optional().computed().description(
            "KubeVirt instance type, e.g. `u1.2xlarge` (8 vCPU, 32 GiB). Hikube recommends 8 to 16 vCPU per GPU. \
             Mutually exclusive with `resources`. Default: the chart's `u1.medium` when neither is set.",
        ))
        .attr(Attribute::string("instance_profile").default(Value::string(vm::DEFAULT_PROFILE)).description(
            "KubeVirt preference (OS profile), e.g. `ubuntu`, `fedora`, `windows.2k22`. Default `ubuntu`.",
        ))
        .attr(
            Attribute::nested(
                "resources",
                Nesting::Single,
                vec![
                    Attribute::string("cpu").optional().description("vCPU cores per socket, e.g. `\"8\"`."),
                    Attribute::string("sockets").optional().description("CPU sockets, e.g. `\"1\"`."),
                    Attribute::string("memory").optional().description("Memory as a Kubernetes quantity, e.g. `\"32Gi\"`."),
                ],
            )
            .optional()
            .description(
                "Custom sizing instead of `instance_type`: all of `cpu`, `sockets` and `memory` must be set \
                 (Cozystack's chart requires them together).",
            ),
        )
        .attr(
            Attribute::nested(
                "gpus",
                Nesting::List,
                vec![Attribute::string("name").required().description(
                    "GPU type: a model (`L40S`, `A100`, `H100`), the seed form (`nvidia.com/A100`) or the full \
                     resource name (`nvidia.com/GA100_A100_PCIE_80GB`). The provider sends the name the cluster \
                     advertises and keeps your spelling in state.",
                )],
            )
            .optional()
            .description("GPUs to pass through; one entry per GPU (`gpus = [{ name = \"A100\" }, { name = \"A100\" }]`)."),
        )
        .attr(
            Attribute::nested(
                "system_disk",
                Nesting::Single,
                vec![
                    Attribute::string("size").optional().computed().description(
                        "Disk size, e.g. `200Gi` (sent as the API's `storage` key: the chart ignores `size`). Default `5Gi`. \
                         Can grow in place.",
                    ),
                    Attribute::string("storage_class").optional().computed().requires_replace().description(
                        "Storage class, e.g. `replicated` (default). Changing it replaces the VM.",
                    ),
                    Attribute::string("image").optional().computed().requires_replace().description(
                        "Boot image: `ubuntu` (default), `cirros`, `alpine`, `fedora`, `talos`. Changing it replaces the VM.",
                    ),
                ],
            )
            .optional()
            .computed()
            .description("The boot disk."),
        )
        .attr(Attribute::bool("running").default(Value::Bool(true)).description(
            "Whether the VM runs. Stop GPU VMs you do not use: set `false`. Default `true`.",
        ))
        .attr(Attribute::bool("external").default(Value::Bool(false)).description(
            "Expose the VM with a LoadBalancer Service (its address is in `external_ip`). Default `false`.",
        ))
        .attr(Attribute::string("external_method").default(Value::string("PortList")).description(
            "`PortList` (only `external_ports`) or `WholeIP`. Default `PortList`.",
        ))
        .attr(Attribute::typed("external_ports", Type::List(Box::new(Type::Number))).optional().computed().description(
            "Ports opened with `PortList`, e.g. `[22, 8888]`. Default `[22]`.",
        ))
        .attr(Attribute::typed("ssh_keys", Type::List(Box::new(Type::String))).optional().description(
            "SSH public keys injected into the VM.",
        ))
        .attr(Attribute::string("cloud_init").optional().sensitive().description(
            "cloud-init user data (`#cloud-config ...`). Sensitive: never shown in plans or logs. With Terraform \
             1.11 or later prefer `cloud_init_wo`, which is not stored in state.",
        ))
        .attr(Attribute::string("cloud_init_wo").optional().write_only().description(
            "Write-only variant of `cloud_init` (Terraform >= 1.11): sent to the API, never stored in state. \
             Bump `cloud_init_wo_version` to send a new value.",
        ))
        .attr(Attribute::number("cloud_init_wo_version").optional().description(
            "Any number; change it to apply a new `cloud_init_wo`.",
        ))
        .attr(Attribute::string("cloud_init_seed").optional().description(
            "Seed of the VM's SMBIOS UUID; changing it makes cloud-init run again.",
        ))
        .attr(Attribute::bool("wait_for_ready").default(Value::Bool(true)).description(
            "Wait for the app to report `Ready=True` after create and update. Default `true`.",
        ))
        .attr(Attribute::bool("ready").computed().description("Whether the app reports `Ready=True`."))
        .attr(Attribute::string("status_message").computed().description(
            "The `Ready` condition's message (why the VM is not ready, when it is not).",
        ))
        .attr(Attribute::string("external_ip").computed().description(
            "The LoadBalancer address when `external = true` (from the Service `vm-instance-<name>`).",
        ))
        .attr(Attribute::string("api_kind").computed().use_state_for_unknown().description(
            "`VirtualMachine` (Cozystack v0.x) or `VMInstance` (v1.x).",
        ))
        .attr(Attribute::string("app_version").computed().description("The app chart version Cozystack reports.")),
    )
    .with_block(timeouts_block(&[("create", "30m"), ("update", "30m"), ("delete", "15m")]))
}

trait WithBlock {
    fn with_block(self, b: crate::plugin::schema::NestedBlock) -> Self;
}

impl WithBlock for Schema {
    fn with_block(mut self, b: crate::plugin::schema::NestedBlock) -> Self {
        self.block.blocks.push(b);
        self
    }
}

fn identity_schema() -> IdentitySchema {
    IdentitySchema {
        version: 0,
        attributes: vec![
            IdentityAttribute {
                name: "namespace".into(),
                ty: Type::String,
                required_for_import: true,
                optional_for_import: false,
                description: "Tenant namespace.".into(),
            },
            IdentityAttribute {
                name: "name".into(),
                ty: Type::String,
                required_for_import: true,
                optional_for_import: false,
                description: "VM name.".into(),
            },
        ],
    }
}

// ---------------------------------------------------------------------------
// Validation

fn vm_input(config: &Value, kind: Option<AppKind>) -> VmInput {
    let res = config.get("resources");
    VmInput {
        name: common::known_str(config.get("name")),
        api_kind: kind,
        disk_name_suffix: match kind {
            Some(AppKind::VMInstance) => Some(String::new()),
            _ => None,
        },
        instance_type: common::known_str(config.get("instance_type")),
        resources: match res {
            Value::Unknown(_) => Known::Unknown,
            Value::Null => Known::Null,
            r => Known::Value(VmResources {
                cpu: common::known_str(r.get("cpu")),
                sockets: common::known_str(r.get("sockets")),
                memory: common::known_str(r.get("memory")),
            }),
        },
        gpus: common::known_gpus(config.get("gpus")),
        system_disk_size: common::known_str(config.get("system_disk").get("size")),
    }
}

fn validate_config(config: &Value) -> Diagnostics {
    let mut d = common::findings_to_diags(catalog::check_vm(
        &vm_input(config, None),
        &catalog::RuleContext::offline(),
    ));
    if let Some(m) = config.get("external_method").as_str()
        && m != "PortList"
        && m != "WholeIP"
    {
        d.error_at(
            AttrPath::root("external_method"),
            "Invalid external_method",
            format!("`{m}` is not an exposure method. Fix: use \"PortList\" or \"WholeIP\"."),
        );
    }
    if let Some(ports) = config.get("external_ports").as_list() {
        for (i, p) in ports.iter().enumerate() {
            if let Some(n) = p.as_i64()
                && !(1..=65535).contains(&n)
            {
                d.error_at(
                    AttrPath::root("external_ports").index(i as i64),
                    "Invalid port",
                    format!("{n} is not a TCP/UDP port. Fix: use a number from 1 to 65535."),
                );
            }
        }
    }
    if !config.get("cloud_init").is_null() && !config.get("cloud_init_wo").is_null() {
        d.error_at(
            AttrPath::root("cloud_init_wo"),
            "Conflicting cloud-init attributes",
            "`cloud_init` and `cloud_init_wo` are both set. Fix: keep only one (prefer `cloud_init_wo` on Terraform >= 1.11).",
        );
    }
    if config.get("external").as_bool() == Some(false)
        && config
            .get("external_ports")
            .as_list()
            .is_some_and(|l| !l.is_empty())
    {
        d.warning_at(
            AttrPath::root("external_ports"),
            "external_ports has no effect",
            "`external_ports` is set but `external` is false, so no port is exposed. Fix: set `external = true`, or remove `external_ports`.",
        );
    }
    d.extend(Timeouts::validate(config.get("timeouts")));
    d
}

// ---------------------------------------------------------------------------
// Model <-> state

/// Everything create/update need, taken from the planned state and config.
struct Desired {
    namespace: String,
    /// GPU names as written in the configuration.
    user_gpus: Vec<String>,
    name: String,
    spec: VmSpec,
    wait: bool,
    timeouts: Timeouts,
}

fn opt_string(v: &Value) -> Option<String> {
    v.as_str().map(str::to_string)
}

fn string_list(v: &Value) -> Option<Vec<String>> {
    v.as_list().map(|l| {
        l.iter()
            .filter_map(|x| x.as_str().map(str::to_string))
            .collect()
    })
}

async fn desired(
    session: &Session,
    client: &CozyClient,
    planned: &Value,
    config: &Value,
) -> Result<Desired, Diagnostics> {
    let namespace = common::namespace(planned.get("namespace"), session)?;
    let name = planned.get("name").as_str().unwrap_or_default().to_string();
    let offers = common::cluster_offers(client, &namespace).await;
    let mut gpus = Vec::new();
    let mut diags = Diagnostics::new();
    for (i, g) in common::gpu_names(planned.get("gpus")).iter().enumerate() {
        match catalog::resolve_gpu(g, offers.gpus.as_deref()) {
            Ok(r) => gpus.push(r.resource_name),
            Err(e) => diags.push(
                Diagnostic::error("Unknown GPU type", format!("{e}. Fix: {}", e.fix()))
                    .at(AttrPath::root("gpus").index(i as i64).attr("name")),
            ),
        }
    }
    if diags.has_errors() {
        return Err(diags);
    }
    let res = planned.get("resources");
    let disk = planned.get("system_disk");
    let cloud_init =
        opt_string(config.get("cloud_init_wo")).or_else(|| opt_string(planned.get("cloud_init")));
    let spec = VmSpec {
        instance_type: opt_string(planned.get("instance_type")).filter(|s| !s.is_empty()),
        instance_profile: opt_string(planned.get("instance_profile")),
        resources: (!res.is_null()).then(|| Resources {
            cpu: opt_string(res.get("cpu")),
            sockets: opt_string(res.get("sockets")),
            memory: opt_string(res.get("memory")),
        }),
        gpus,
        disk: Disk {
            size: opt_string(disk.get("size")),
            storage_class: opt_string(disk.get("storage_class")),
            image: opt_string(disk.get("image")),
        },
        running: planned.get("running").as_bool().unwrap_or(true),
        external: planned.get("external").as_bool().unwrap_or(false),
        external_method: opt_string(planned.get("external_method")),
        external_ports: planned
            .get("external_ports")
            .as_list()
            .map(|l| l.iter().filter_map(Value::as_i64).collect()),
        ssh_keys: string_list(planned.get("ssh_keys")),
        cloud_init,
        cloud_init_seed: opt_string(planned.get("cloud_init_seed")),
    };
    Ok(Desired {
        user_gpus: common::gpu_names(planned.get("gpus")),
        namespace,
        name,
        spec,
        wait: planned.get("wait_for_ready").as_bool().unwrap_or(true),
        timeouts: Timeouts::from_value(planned.get("timeouts"), DEFAULT_TIMEOUTS),
    })
}

/// Observed state of a VM in the API.
struct Observed {
    generation: ApiGeneration,
    /// GPU spellings recorded at the last write.
    gpu_spelling: Option<Vec<String>>,
    spec: VmSpec,
    readiness: common::Readiness,
    external_ip: Option<String>,
}

async fn observe(
    client: &CozyClient,
    g: ApiGeneration,
    namespace: &str,
    name: &str,
) -> Result<Option<Observed>, CozyError> {
    let path = CozyClient::app_path(vm::vm_plural(g), namespace, name);
    let Some(obj) = client.get_opt(&path).await? else {
        return Ok(None);
    };
    if obj["metadata"]["deletionTimestamp"].is_string() {
        // Being uninstalled: for Terraform it is gone.
        return Ok(None);
    }
    let disk = match g {
        ApiGeneration::V0 => None,
        ApiGeneration::V1 => {
            client
                .get_opt(&CozyClient::app_path(
                    vm::VM_DISKS,
                    namespace,
                    &vm::disk_name(name),
                ))
                .await?
        }
    };
    let spec = vm::parse_vm(g, &obj, disk.as_ref());
    let external_ip = if spec.external {
        client
            .get_opt(&format!(
                "/api/v1/namespaces/{namespace}/services/{}",
                vm::service_name(g, name)
            ))
            .await
            .ok()
            .flatten()
            .and_then(|s| vm::external_ip(&s))
    } else {
        None
    };
    Ok(Some(Observed {
        generation: g,
        readiness: common::readiness(&obj),
        gpu_spelling: vm::gpu_spelling(&obj),
        spec,
        external_ip,
    }))
}

/// Keep the user's text when the API holds the same quantity.
fn same_quantity_text(prior: &Value, api: &Option<String>) -> Value {
    match (prior.as_str(), api) {
        (Some(p), Some(a)) => {
            let same = match (catalog::Quantity::parse(p), catalog::Quantity::parse(a)) {
                (Ok(x), Ok(y)) => x == y,
                _ => p == a,
            };
            Value::string(if same { p.to_string() } else { a.clone() })
        }
        (_, Some(a)) => Value::string(a.clone()),
        (_, None) => Value::Null,
    }
}

/// Build the state from what the API holds, keeping the user's spellings
/// (GPU names, quantities) and leaving null what the user does not manage.
fn state_from(prior: &Value, namespace: &str, name: &str, o: &Observed) -> Value {
    let s = &o.spec;
    let mut prior_gpus = common::gpu_names(prior.get("gpus"));
    if prior_gpus.is_empty()
        && let Some(spelling) = &o.gpu_spelling
    {
        prior_gpus = spelling.clone();
    }
    let gpus: Vec<String> = s
        .gpus
        .iter()
        .enumerate()
        .map(|(i, api)| match prior_gpus.get(i) {
            Some(user) if catalog::same_gpu(user, api) => user.clone(),
            _ => api.clone(),
        })
        .collect();
    let gpus_value = if gpus.is_empty() && prior.get("gpus").is_null() {
        Value::Null
    } else {
        common::gpus_value(&gpus)
    };
    let resources = match &s.resources {
        None => Value::Null,
        Some(r) => {
            let p = prior.get("resources");
            Value::object([
                ("cpu", same_quantity_text(p.get("cpu"), &r.cpu)),
                ("sockets", same_quantity_text(p.get("sockets"), &r.sockets)),
                ("memory", same_quantity_text(p.get("memory"), &r.memory)),
            ])
        }
    };
    let pd = prior.get("system_disk");
    let system_disk = if s.disk == Disk::default() {
        // The disk could not be read: keep what we had, without unknowns.
        match pd {
            Value::Object(m) => Value::Object(
                m.iter()
                    .map(|(k, v)| {
                        (
                            k.clone(),
                            if v.is_known() { v.clone() } else { Value::Null },
                        )
                    })
                    .collect(),
            ),
            _ => Value::Null,
        }
    } else {
        Value::object([
            ("size", same_quantity_text(pd.get("size"), &s.disk.size)),
            (
                "storage_class",
                s.disk
                    .storage_class
                    .clone()
                    .map(Value::string)
                    .unwrap_or(Value::Null),
            ),
            (
                "image",
                s.disk
                    .image
                    .clone()
                    .map(Value::string)
                    .unwrap_or(Value::Null),
            ),
        ])
    };
    let keep_null_if_empty = |prior_v: &Value, v: Option<Vec<String>>| match v {
        Some(l) if !l.is_empty() || !prior_v.is_null() => {
            Value::List(l.into_iter().map(Value::string).collect())
        }
        _ => Value::Null,
    };
    let cloud_init = if prior.get("cloud_init").is_null() {
        // Unset, or set through the write-only attribute: not ours to report.
        Value::Null
    } else {
        s.cloud_init
            .clone()
            .map(Value::string)
            .unwrap_or(Value::Null)
    };
    let mut m = BTreeMap::new();
    m.insert("id".into(), Value::string(format!("{namespace}/{name}")));
    m.insert("name".into(), Value::string(name));
    m.insert("namespace".into(), Value::string(namespace));
    m.insert(
        "instance_type".into(),
        s.instance_type
            .clone()
            .map(Value::string)
            .unwrap_or(Value::Null),
    );
    m.insert(
        "instance_profile".into(),
        Value::string(
            s.instance_profile
                .clone()
                .unwrap_or_else(|| vm::DEFAULT_PROFILE.into()),
        ),
    );
    m.insert("resources".into(), resources);
    m.insert("gpus".into(), gpus_value);
    m.insert("system_disk".into(), system_disk);
    m.insert("running".into(), Value::Bool(s.running));
    m.insert("external".into(), Value::Bool(s.external));
    m.insert(
        "external_method".into(),
        Value::string(
            s.external_method
                .clone()
                .unwrap_or_else(|| "PortList".into()),
        ),
    );
    m.insert(
        "external_ports".into(),
        Value::List(
            s.external_ports
                .clone()
                .unwrap_or_default()
                .into_iter()
                .map(Value::number_i64)
                .collect(),
        ),
    );
    m.insert(
        "ssh_keys".into(),
        keep_null_if_empty(prior.get("ssh_keys"), s.ssh_keys.clone()),
    );
    m.insert("cloud_init".into(), cloud_init);
    m.insert("cloud_init_wo".into(), Value::Null);
    m.insert(
        "cloud_init_wo_version".into(),
        prior.get("cloud_init_wo_version").clone(),
    );
    m.insert(
        "cloud_init_seed".into(),
        if prior.get("cloud_init_seed").is_null() && s.cloud_init_seed.is_none() {
            Value::Null
        } else {
            s.cloud_init_seed
                .clone()
                .map(Value::string)
                .unwrap_or(Value::Null)
        },
    );
    m.insert(
        "wait_for_ready".into(),
        Value::Bool(prior.get("wait_for_ready").as_bool().unwrap_or(true)),
    );
    m.insert("ready".into(), Value::Bool(o.readiness.ready));
    m.insert(
        "status_message".into(),
        Value::string(o.readiness.message.clone()),
    );
    m.insert(
        "external_ip".into(),
        o.external_ip
            .clone()
            .map(Value::string)
            .unwrap_or(Value::Null),
    );
    m.insert("api_kind".into(), Value::string(vm::vm_kind(o.generation)));
    m.insert(
        "app_version".into(),
        Value::string(o.readiness.version.clone()),
    );
    m.insert("timeouts".into(), prior.get("timeouts").clone());
    Value::Object(m)
}

fn identity(namespace: &str, name: &str) -> Value {
    Value::object([
        ("namespace", Value::string(namespace)),
        ("name", Value::string(name)),
    ])
}

fn api_error(summary: &str, e: &CozyError) -> Diagnostics {
    common::api_diag(summary, e)
}

// ---------------------------------------------------------------------------
// The resource

#[async_trait]
impl Resource for GpuVm {
    fn type_name(&self) -> &'static str {
        "hikube_gpu_vm"
    }

    fn schema(&self) -> Schema {
        schema()
    }

    fn identity_schema(&self) -> Option<IdentitySchema> {
        Some(identity_schema())
    }

    fn validate(&self, config: &Value) -> Diagnostics {
        validate_config(config)
    }

    async fn modify_plan(&self, _ctx: &Ctx, req: &PlanRequest, plan: &mut Plan) {
        let Ok(session) = self.session.get() else {
            return;
        };
        let p = &mut plan.planned_state;
        // The namespace and id are known at plan time.
        if req.config.get("namespace").is_null()
            && !p.get("namespace").is_known()
            && let Some(ns) = session.namespace()
            && let Value::Object(m) = p
        {
            m.insert("namespace".into(), Value::string(ns));
        }
        if let (Some(ns), Some(name)) = (
            p.get("namespace").as_str().map(str::to_string),
            p.get("name").as_str().map(str::to_string),
        ) && let Value::Object(m) = p
        {
            m.insert("id".into(), Value::string(format!("{ns}/{name}")));
        }
        // Custom sizing: no instance type (it would conflict).
        if req.config.get("instance_type").is_null()
            && !req.config.get("resources").is_null()
            && let Value::Object(m) = p
        {
            m.insert("instance_type".into(), Value::Null);
        }
        // Cluster-aware checks.
        let (client, generation) = match common::connect(&session).await {
            Ok(x) => x,
            Err(d) => {
                plan.diagnostics.extend(d);
                return;
            }
        };
        if let Value::Object(m) = p
            && !m
                .get("api_kind")
                .is_some_and(|v| v.is_known() && !v.is_null())
        {
            m.insert("api_kind".into(), Value::string(vm::vm_kind(generation)));
        }
        let Some(ns) = plan
            .planned_state
            .get("namespace")
            .as_str()
            .map(str::to_string)
        else {
            return;
        };
        let offers = common::cluster_offers(client, &ns).await;
        let kind = match generation {
            ApiGeneration::V0 => AppKind::VirtualMachine,
            ApiGeneration::V1 => AppKind::VMInstance,
        };
        let findings = catalog::check_vm(
            &vm_input(&req.config, Some(kind)),
            &common::rule_context(&offers),
        );
        // Offline findings were already shown by validate; keep only the
        // cluster-aware ones and the kind-specific name limits.
        let offline: Vec<_> = catalog::check_vm(
            &vm_input(&req.config, None),
            &catalog::RuleContext::offline(),
        )
        .into_iter()
        .map(|f| (f.summary.clone(), f.path_string()))
        .collect();
        let new: Vec<_> = findings
            .into_iter()
            .filter(|f| !offline.contains(&(f.summary.clone(), f.path_string())))
            .collect();
        plan.diagnostics.extend(common::findings_to_diags(new));
    }

    async fn create(&self, ctx: &Ctx, planned: &Value, config: &Value) -> StateResult {
        let session = match common::session(&self.session) {
            Ok(s) => s,
            Err(d) => return StateResult::failed(d),
        };
        let (client, g) = match common::connect(&session).await {
            Ok(x) => x,
            Err(d) => return StateResult::failed(d),
        };
        let d = match desired(&session, client, planned, config).await {
            Ok(d) => d,
            Err(diags) => return StateResult::failed(diags),
        };
        let marker = common::creation_id();
        let mark = Some((CREATION_MARKER, marker.as_str()));
        let already = |e: &CozyError| {
            Diagnostic::error(
                "VM already exists",
                format!(
                    "{e}. It is not managed by this configuration. Fix: import it with `terraform import hikube_gpu_vm.<name> {}/{}`, or choose another name.",
                    d.namespace, d.name
                ),
            )
            .at(AttrPath::root("name"))
        };
        tracing::info!(namespace = %d.namespace, name = %d.name, kind = vm::vm_kind(g), gpus = d.spec.gpus.len(), "creating GPU VM");
        // What exists from here on must end up in state, so nothing is orphaned.
        let mut created_any = false;
        if g == ApiGeneration::V1 {
            let disk = vm::vm_disk(&d.name, &d.namespace, &d.spec, mark);
            match client
                .create(&CozyClient::app_path(vm::VM_DISKS, &d.namespace, ""), &disk)
                .await
            {
                Ok(_) => created_any = true,
                Err(e @ CozyError::AlreadyExists { .. }) => match adopt_leftover_disk(client, &d)
                    .await
                {
                    Ok(true) => created_any = true,
                    Ok(false) => return StateResult::failed(already(&e).into()),
                    Err(e) => {
                        return StateResult::failed(api_error("Failed to adopt the VM's disk", &e));
                    }
                },
                Err(e) => {
                    return StateResult::failed(api_error("Failed to create the VM's disk", &e));
                }
            }
        }
        let mut obj = match g {
            ApiGeneration::V0 => vm::virtual_machine(&d.name, &d.namespace, &d.spec, mark),
            ApiGeneration::V1 => vm::vm_instance(&d.name, &d.namespace, &d.spec, mark),
        };
        vm::annotate_gpu_spelling(&mut obj, &d.user_gpus);
        let path = CozyClient::app_path(vm::vm_plural(g), &d.namespace, &d.name);
        if let Err(e) = client
            .create(
                &CozyClient::app_path(vm::vm_plural(g), &d.namespace, ""),
                &obj,
            )
            .await
        {
            let mut diags = match &e {
                CozyError::AlreadyExists { .. } => already(&e).into(),
                _ => api_error("Failed to create the VM", &e),
            };
            if created_any {
                // The disk exists: record it (tainted) so destroy removes it.
                diags.push(Diagnostic::warning(
                    "Partially created",
                    "The VM's disk was created; it is kept in state as tainted and will be removed or replaced by the next apply.",
                ));
                return self.partial_state(planned, &d, g, diags);
            }
            return StateResult::failed(diags);
        }
        self.finish(
            ctx,
            client,
            planned,
            &d,
            g,
            &path,
            false,
            Diagnostics::new(),
        )
        .await
    }

    async fn read(&self, _ctx: &Ctx, state: &Value) -> StateResult {
        let session = match common::session(&self.session) {
            Ok(s) => s,
            Err(d) => return StateResult::failed(d),
        };
        let (Some(ns), Some(name)) = (state.get("namespace").as_str(), state.get("name").as_str())
        else {
            return StateResult::failed(
                Diagnostic::error("Invalid state", "the state has no namespace or name").into(),
            );
        };
        let (client, g) = match common::connect(&session).await {
            Ok(x) => x,
            Err(d) => return StateResult::failed(d),
        };
        match observe(client, g, ns, name).await {
            Ok(Some(o)) => StateResult {
                state: state_from(state, ns, name, &o),
                diagnostics: Diagnostics::new(),
                identity: Some(identity(ns, name)),
            },
            Ok(None) => {
                tracing::info!(
                    namespace = ns,
                    name,
                    "GPU VM is gone; removing it from state"
                );
                StateResult::default()
            }
            Err(e) => StateResult {
                state: state.clone(),
                diagnostics: api_error("Failed to read the VM", &e),
                identity: None,
            },
        }
    }

    async fn update(
        &self,
        ctx: &Ctx,
        prior: &Value,
        planned: &Value,
        config: &Value,
    ) -> StateResult {
        let session = match common::session(&self.session) {
            Ok(s) => s,
            Err(d) => return StateResult::failed(d),
        };
        let (client, g) = match common::connect(&session).await {
            Ok(x) => x,
            Err(d) => return StateResult::failed(d),
        };
        let d = match desired(&session, client, planned, config).await {
            Ok(d) => d,
            Err(diags) => return StateResult::failed(diags),
        };
        let keep_prior = |diags: Diagnostics| StateResult {
            state: prior.clone(),
            diagnostics: diags,
            identity: Some(identity(&d.namespace, &d.name)),
        };
        // cloud_init_wo: only sent when its version changes.
        let mut spec = d.spec.clone();
        if config.get("cloud_init").is_null()
            && prior.get("cloud_init_wo_version") == planned.get("cloud_init_wo_version")
        {
            spec.cloud_init = None;
        }
        let path = CozyClient::app_path(vm::vm_plural(g), &d.namespace, &d.name);
        let mut patch = vm::vm_spec_patch(g, &spec);
        vm::annotate_gpu_spelling(&mut patch, &d.user_gpus);
        if config.get("cloud_init").is_null()
            && spec.cloud_init.is_none()
            && !prior.get("cloud_init_wo_version").is_null()
        {
            // Keep the write-only value in place.
            if let Some(m) = patch["spec"].as_object_mut() {
                m.remove("cloudInit");
            }
        }
        tracing::info!(namespace = %d.namespace, name = %d.name, "updating GPU VM");
        if let Err(e) = client.merge_patch(&path, &patch).await {
            return keep_prior(api_error("Failed to update the VM", &e));
        }
        if g == ApiGeneration::V1 {
            let old_size = prior.get("system_disk").get("size");
            let new_size = planned.get("system_disk").get("size");
            if new_size.is_known() && !new_size.is_null() && old_size != new_size {
                let dpath =
                    CozyClient::app_path(vm::VM_DISKS, &d.namespace, &vm::disk_name(&d.name));
                let p = serde_json::json!({"spec": {"storage": new_size.as_str()}});
                if let Err(e) = client.merge_patch(&dpath, &p).await {
                    return keep_prior(api_error("Failed to resize the VM's disk", &e));
                }
            }
        }
        self.finish(ctx, client, planned, &d, g, &path, true, Diagnostics::new())
            .await
    }

    async fn delete(&self, ctx: &Ctx, prior: &Value) -> Diagnostics {
        let session = match common::session(&self.session) {
            Ok(s) => s,
            Err(d) => return d,
        };
        let (Some(ns), Some(name)) = (prior.get("namespace").as_str(), prior.get("name").as_str())
        else {
            return Diagnostics::new();
        };
        let (client, g) = match common::connect(&session).await {
            Ok(x) => x,
            Err(d) => return d,
        };
        let timeouts = Timeouts::from_value(prior.get("timeouts"), DEFAULT_TIMEOUTS);
        tracing::info!(namespace = ns, name, "deleting GPU VM");
        let path = CozyClient::app_path(vm::vm_plural(g), ns, name);
        if let Err(e) = client.delete(&path).await {
            return api_error("Failed to delete the VM", &e);
        }
        if let Err(e) = client.wait_gone(&path, timeouts.delete, &ctx.cancel).await {
            return api_error("The VM was not deleted in time", &e);
        }
        if g == ApiGeneration::V1 {
            let dpath = CozyClient::app_path(vm::VM_DISKS, ns, &vm::disk_name(name));
            if let Err(e) = client.delete(&dpath).await {
                return api_error("Failed to delete the VM's disk", &e);
            }
            if let Err(e) = client.wait_gone(&dpath, timeouts.delete, &ctx.cancel).await {
                return api_error("The VM's disk was not deleted in time", &e);
            }
        }
        Diagnostics::new()
    }

    async fn import(&self, _ctx: &Ctx, id: &str, identity_value: Option<&Value>) -> StateResult {
        let (ns, name) = match identity_value {
            Some(i) if i.get("namespace").as_str().is_some() => (
                i.get("namespace").as_str().unwrap_or_default().to_string(),
                i.get("name").as_str().unwrap_or_default().to_string(),
            ),
            _ => match id.split_once('/') {
                Some((ns, name)) if !ns.is_empty() && !name.is_empty() && !name.contains('/') => {
                    (ns.to_string(), name.to_string())
                }
                _ => {
                    return StateResult::failed(
                        Diagnostic::error(
                            "Invalid import ID",
                            format!("`{id}` is not `<namespace>/<name>`. Fix: e.g. `terraform import hikube_gpu_vm.gpu tenant-root/vm-gpu`."),
                        )
                        .into(),
                    );
                }
            },
        };
        let session = match common::session(&self.session) {
            Ok(s) => s,
            Err(d) => return StateResult::failed(d),
        };
        let (client, g) = match common::connect(&session).await {
            Ok(x) => x,
            Err(d) => return StateResult::failed(d),
        };
        match observe(client, g, &ns, &name).await {
            Ok(Some(o)) => {
                // Import reports everything the API holds.
                let seed = Value::object([
                    ("gpus", Value::List(vec![])),
                    (
                        "ssh_keys",
                        if o.spec.ssh_keys.as_ref().is_some_and(|k| !k.is_empty()) {
                            Value::List(vec![])
                        } else {
                            Value::Null
                        },
                    ),
                    (
                        "cloud_init",
                        if o.spec.cloud_init.is_some() {
                            Value::string("")
                        } else {
                            Value::Null
                        },
                    ),
                ]);
                let mut state = state_from(&seed, &ns, &name, &o);
                if o.spec.gpus.is_empty()
                    && let Value::Object(m) = &mut state
                {
                    m.insert("gpus".into(), Value::Null);
                }
                StateResult {
                    state,
                    diagnostics: Diagnostics::new(),
                    identity: Some(identity(&ns, &name)),
                }
            }
            Ok(None) => StateResult::failed(
                Diagnostic::error(
                    "Cannot import a VM that does not exist",
                    format!("No {} named {name:?} in namespace {ns:?}.", vm::vm_kind(g)),
                )
                .into(),
            ),
            Err(e) => StateResult::failed(api_error("Failed to read the VM", &e)),
        }
    }
}

/// On v1, a `VMDisk` of this name may be left over from a VM of ours whose
/// `VMInstance` was deleted out of band. Take it over when it carries our
/// label, boots the same image, uses the same storage class and no
/// `VMInstance` exists; grow it if needed. `Ok(false)`: not ours to take.
async fn adopt_leftover_disk(client: &CozyClient, d: &Desired) -> Result<bool, CozyError> {
    let dpath = CozyClient::app_path(vm::VM_DISKS, &d.namespace, &vm::disk_name(&d.name));
    let ipath = CozyClient::app_path(vm::VM_INSTANCES, &d.namespace, &d.name);
    let Some(disk) = client.get_opt(&dpath).await? else {
        return Ok(false);
    };
    if !vm::is_ours(&disk)
        || disk["metadata"]["deletionTimestamp"].is_string()
        || client.get_opt(&ipath).await?.is_some()
    {
        return Ok(false);
    }
    let have = vm::parse_vm(ApiGeneration::V1, &serde_json::json!({}), Some(&disk)).disk;
    let want_image = d
        .spec
        .disk
        .image
        .clone()
        .unwrap_or_else(|| vm::DEFAULT_IMAGE.into());
    let want_class = d
        .spec
        .disk
        .storage_class
        .clone()
        .unwrap_or_else(|| vm::DEFAULT_STORAGE_CLASS.into());
    if have.image.as_deref() != Some(want_image.as_str())
        || have.storage_class.as_deref() != Some(want_class.as_str())
    {
        return Ok(false);
    }
    if let Some(size) = &d.spec.disk.size
        && have.size.as_deref() != Some(size.as_str())
    {
        client
            .merge_patch(&dpath, &serde_json::json!({"spec": {"storage": size}}))
            .await?;
    }
    tracing::info!(namespace = %d.namespace, name = %d.name, "adopting the VM's own leftover disk");
    Ok(true)
}

impl GpuVm {
    /// After a write: wait for Ready (when asked), read back, build state.
    /// Failures after the write keep the object in state.
    #[allow(clippy::too_many_arguments)]
    async fn finish(
        &self,
        ctx: &Ctx,
        client: &CozyClient,
        planned: &Value,
        d: &Desired,
        g: ApiGeneration,
        path: &str,
        after_change: bool,
        mut diags: Diagnostics,
    ) -> StateResult {
        if !after_change {
            // Cozystack serves reads from a cache: the object may not be
            // visible for a moment after the create.
            let mut paths = vec![path.to_string()];
            if g == ApiGeneration::V1 {
                paths.push(CozyClient::app_path(
                    vm::VM_DISKS,
                    &d.namespace,
                    &vm::disk_name(&d.name),
                ));
            }
            for p in &paths {
                if let Err(e) = client.get_after_create(p).await {
                    diags.extend(api_error("The VM was created but cannot be read back", &e));
                    return self.partial_state(planned, d, g, diags);
                }
            }
        }
        if d.wait {
            let timeout = if after_change {
                d.timeouts.update
            } else {
                d.timeouts.create
            };
            match common::wait_ready(client, path, timeout, after_change, &ctx.cancel).await {
                Ok(WaitOutcome::Ready(_)) => {}
                Ok(WaitOutcome::Failed(_, msg)) => diags.push(Diagnostic::error(
                    "The VM did not become Ready",
                    format!(
                        "Cozystack reports: {msg}\nThe VM is kept in state (tainted on create) so that nothing is orphaned; fix the configuration and apply again."
                    ),
                )),
                Ok(WaitOutcome::Gone) => {
                    diags.error("The VM disappeared", "It was deleted while Terraform waited for it.");
                    return StateResult::failed(diags);
                }
                Err(e) => diags.extend(api_error("Waiting for the VM failed", &e)),
            }
        }
        match observe(client, g, &d.namespace, &d.name).await {
            Ok(Some(o)) => {
                let mut state = state_from(planned, &d.namespace, &d.name, &o);
                // Keep what the user planned for fields the server reports
                // differently only in form (the planned value is what
                // Terraform expects back).
                if let (Value::Object(m), Value::Object(p)) = (&mut state, planned) {
                    for k in ["wait_for_ready", "cloud_init_wo_version", "timeouts"] {
                        if let Some(v) = p.get(k) {
                            m.insert(k.to_string(), v.clone());
                        }
                    }
                }
                StateResult {
                    state,
                    diagnostics: diags,
                    identity: Some(identity(&d.namespace, &d.name)),
                }
            }
            Ok(None) => {
                diags.error(
                    "The VM disappeared",
                    "It was deleted while Terraform was creating it.",
                );
                StateResult::failed(diags)
            }
            Err(e) => {
                diags.extend(api_error("Failed to read the VM back", &e));
                self.partial_state(planned, d, g, diags)
            }
        }
    }

    /// A state for an object that exists but could not be fully read: the
    /// planned values with the unknowns filled, so Terraform can record it.
    fn partial_state(
        &self,
        planned: &Value,
        d: &Desired,
        g: ApiGeneration,
        diags: Diagnostics,
    ) -> StateResult {
        let mut state = planned.clone();
        if let Value::Object(m) = &mut state {
            m.insert(
                "id".into(),
                Value::string(format!("{}/{}", d.namespace, d.name)),
            );
            m.insert("namespace".into(), Value::string(d.namespace.clone()));
            m.insert("api_kind".into(), Value::string(vm::vm_kind(g)));
            for (_, v) in m.iter_mut() {
                if !v.is_known() {
                    *v = Value::Null;
                }
            }
            m.insert("ready".into(), Value::Bool(false));
            if let Some(Value::Object(disk)) = m.get_mut("system_disk") {
                for (_, v) in disk.iter_mut() {
                    if !v.is_known() {
                        *v = Value::Null;
                    }
                }
            }
            if let Some(v) = m.get_mut("cloud_init_wo") {
                *v = Value::Null;
            }
        }
        StateResult {
            state,
            diagnostics: diags,
            identity: Some(identity(&d.namespace, &d.name)),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn config(pairs: &[(&str, Value)]) -> Value {
        let ty = schema().value_type();
        let Type::Object { attrs, .. } = ty else {
            unreachable!()
        };
        Value::Object(
            attrs
                .keys()
                .map(|k| {
                    (
                        k.clone(),
                        pairs
                            .iter()
                            .find(|(n, _)| n == k)
                            .map(|(_, v)| v.clone())
                            .unwrap_or(Value::Null),
                    )
                })
                .collect(),
        )
    }

    fn paths(d: &Diagnostics) -> Vec<String> {
        d.iter()
            .filter_map(|d| d.attribute.as_ref().map(|p| p.to_string()))
            .collect()
    }

    #[test]
    fn schema_describes_every_attribute() {
        for a in &schema().block.attributes {
            assert!(!a.description.is_empty(), "{} has no description", a.name);
            if let crate::plugin::schema::AttrKind::Nested(_, inner) = &a.kind {
                for i in inner {
                    assert!(
                        !i.description.is_empty(),
                        "{}.{} has no description",
                        a.name,
                        i.name
                    );
                }
            }
        }
    }

    #[test]
    fn bad_inputs_are_reported_at_their_attribute() {
        let d = validate_config(&config(&[
            ("name", Value::string("Bad_Name")),
            ("external_method", Value::string("NodePort")),
            ("external_ports", Value::List(vec![Value::number_i64(0)])),
            (
                "gpus",
                Value::List(vec![Value::object([("name", Value::string("L4OS"))])]),
            ),
        ]));
        let p = paths(&d);
        for want in [
            "name",
            "external_method",
            "external_ports[0]",
            "gpus[0].name",
        ] {
            assert!(p.contains(&want.to_string()), "{want} not in {p:?}");
        }
    }

    #[test]
    fn unknown_values_are_not_errors() {
        let d = validate_config(&config(&[
            ("name", Value::unknown()),
            ("instance_type", Value::unknown()),
            ("gpus", Value::unknown()),
        ]));
        assert!(!d.has_errors(), "{d:?}");
    }

    #[test]
    fn state_keeps_user_spelling_and_quantities() {
        let prior = config(&[
            (
                "gpus",
                Value::List(vec![Value::object([(
                    "name",
                    Value::string("nvidia.com/A100"),
                )])]),
            ),
            (
                "system_disk",
                Value::object([
                    ("size", Value::string("200Gi")),
                    ("storage_class", Value::Null),
                    ("image", Value::Null),
                ]),
            ),
        ]);
        let o = Observed {
            generation: ApiGeneration::V1,
            spec: VmSpec {
                instance_type: Some("u1.2xlarge".into()),
                gpus: vec!["nvidia.com/GA100_A100_PCIE_80GB".into()],
                disk: Disk {
                    size: Some("214748364800".into()),
                    storage_class: Some("replicated".into()),
                    image: Some("ubuntu".into()),
                },
                running: true,
                ..Default::default()
            },
            readiness: common::Readiness::default(),
            external_ip: None,
            gpu_spelling: None,
        };
        let s = state_from(&prior, "tenant-root", "ai", &o);
        assert_eq!(
            s.get("gpus").as_list().unwrap()[0].get("name"),
            &Value::string("nvidia.com/A100")
        );
        assert_eq!(s.get("system_disk").get("size"), &Value::string("200Gi"));
        assert_eq!(s.get("id"), &Value::string("tenant-root/ai"));
        assert_eq!(s.get("api_kind"), &Value::string("VMInstance"));
        assert!(s.get("ssh_keys").is_null());
    }
}
