//! Plan-time rules for `hikube_gpu_vm` and `hikube_gpu_nodegroup`.
//!
//! Inputs are plain structs whose fields are [`Known`] values: `Unknown` (not known until apply),
//! `Null` (not set) or `Value`. A rule that needs an unknown value is skipped: it runs again at
//! apply, when the value is known. Each problem is a [`Finding`] with the Terraform attribute path,
//! a summary, and a detail that names the value as the user wrote it and ends with
//! `Fix: <one line>`.
//!
//! The same functions serve both phases: with [`RuleContext::offline`] (ValidateResourceConfig, no
//! API access) the cluster-aware rules fall back to the built-in catalog; with
//! [`RuleContext::online`] (PlanResourceChange, provider configured) they use what the cluster
//! reports.
//!
//! vCPUs are counted the way KubeVirt does: an instance type's `cpu.guest`; for a VM sized with
//! `resources`, `cpu × sockets` (Cozystack renders `cpu` as `domain.cpu.cores`, cores per
//! socket, and KubeVirt gives the guest cores × sockets × threads, threads being 1); for a node
//! group, `resources.cpu` (rendered as the guest vCPU count).

use std::fmt;

use super::gpu::{
    GpuNameError, OfferedGpu, Resolution, ResolvedGpu, resolve_gpu, valid_names_text,
};
use super::instancetype::{InstanceCatalog, InstanceType, series_of};
use super::names::{AppKind, NameError, check_dns1035, check_name, max_name_len};
use super::quantity::{Quantity, format_units};

/// Fewest vCPUs per GPU Hikube recommends.
pub const MIN_VCPU_PER_GPU: u32 = 8;
/// Most vCPUs per GPU Hikube recommends.
pub const MAX_VCPU_PER_GPU: u32 = 16;
/// The NVIDIA driver needs at least this much VM memory (4 GiB).
pub const MIN_GPU_VM_MEMORY: u128 = 4 << 30;
/// Smallest disk accepted (1 GiB).
pub const MIN_DISK_BYTES: u128 = 1 << 30;
/// Largest disk accepted (64 TiB).
pub const MAX_DISK_BYTES: u128 = 64 << 40;
/// The instance type Cozystack's charts use when none is given.
pub const DEFAULT_INSTANCE_TYPE: &str = "u1.medium";

/// A configuration value at plan time.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub enum Known<T> {
    /// Not known until apply: rules that need it are skipped.
    Unknown,
    /// Not set.
    #[default]
    Null,
    /// Set to this value.
    Value(T),
}

impl<T> Known<T> {
    /// The value, if set and known.
    pub fn value(&self) -> Option<&T> {
        match self {
            Known::Value(v) => Some(v),
            _ => None,
        }
    }

    /// True when unknown until apply.
    pub fn is_unknown(&self) -> bool {
        matches!(self, Known::Unknown)
    }

    /// True when not set.
    pub fn is_null(&self) -> bool {
        matches!(self, Known::Null)
    }
}

impl<T> From<Option<T>> for Known<T> {
    fn from(v: Option<T>) -> Self {
        v.map_or(Known::Null, Known::Value)
    }
}

impl From<&str> for Known<String> {
    fn from(v: &str) -> Self {
        Known::Value(v.to_string())
    }
}

/// How bad a finding is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Severity {
    /// Blocks the plan.
    Error,
    /// Shown, does not block.
    Warning,
}

/// One step of an attribute path.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PathStep {
    /// An attribute or block name.
    Attr(String),
    /// An index in a list.
    Index(usize),
}

/// One problem found in a configuration.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Finding {
    /// Error or warning.
    pub severity: Severity,
    /// The attribute the finding is about.
    pub path: Vec<PathStep>,
    /// One-line summary.
    pub summary: String,
    /// The explanation; its last sentence is `Fix: ...`.
    pub detail: String,
}

impl Finding {
    fn new(
        severity: Severity,
        path: Vec<PathStep>,
        summary: impl Into<String>,
        body: impl AsRef<str>,
        fix: impl AsRef<str>,
    ) -> Self {
        let fix = fix.as_ref();
        let fix = fix.strip_prefix("Fix: ").unwrap_or(fix);
        Finding {
            severity,
            path,
            summary: summary.into(),
            detail: format!("{} Fix: {fix}", body.as_ref()),
        }
    }

    fn error(
        path: Vec<PathStep>,
        summary: impl Into<String>,
        body: impl AsRef<str>,
        fix: impl AsRef<str>,
    ) -> Self {
        Self::new(Severity::Error, path, summary, body, fix)
    }

    fn warning(
        path: Vec<PathStep>,
        summary: impl Into<String>,
        body: impl AsRef<str>,
        fix: impl AsRef<str>,
    ) -> Self {
        Self::new(Severity::Warning, path, summary, body, fix)
    }

    /// True for an error.
    pub fn is_error(&self) -> bool {
        self.severity == Severity::Error
    }

    /// The path written the Terraform way: `gpus[0].name`.
    pub fn path_string(&self) -> String {
        let mut s = String::new();
        for step in &self.path {
            match step {
                PathStep::Attr(a) => {
                    if !s.is_empty() {
                        s.push('.');
                    }
                    s.push_str(a);
                }
                PathStep::Index(i) => s.push_str(&format!("[{i}]")),
            }
        }
        s
    }

    /// The one-line fix (the text after the last `Fix: `).
    pub fn fix(&self) -> &str {
        self.detail
            .rfind("Fix: ")
            .map_or("", |i| &self.detail[i + 5..])
    }
}

impl fmt::Display for Finding {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let sev = match self.severity {
            Severity::Error => "error",
            Severity::Warning => "warning",
        };
        write!(
            f,
            "{sev} at {}: {}: {}",
            self.path_string(),
            self.summary,
            self.detail
        )
    }
}

fn path(parts: &[&str]) -> Vec<PathStep> {
    parts
        .iter()
        .map(|p| PathStep::Attr((*p).to_string()))
        .collect()
}

fn gpu_path(i: usize) -> Vec<PathStep> {
    vec![
        PathStep::Attr("gpus".into()),
        PathStep::Index(i),
        PathStep::Attr("name".into()),
    ]
}

/// What the rules may know about the target cluster.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct RuleContext {
    /// Instance types: built-in, or merged with the cluster's list.
    pub instance_types: InstanceCatalog,
    /// The GPUs the cluster advertises; `None` when it cannot be asked.
    pub offered_gpus: Option<Vec<OfferedGpu>>,
}

impl RuleContext {
    /// No API access: built-in tables only.
    pub fn offline() -> Self {
        RuleContext::default()
    }

    /// With what the cluster reported.
    pub fn online(instance_types: InstanceCatalog, offered_gpus: Option<Vec<OfferedGpu>>) -> Self {
        RuleContext {
            instance_types,
            offered_gpus,
        }
    }
}

/// `resources` of a VM (quantities as written).
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct VmResources {
    /// Cores per socket.
    pub cpu: Known<String>,
    /// Sockets.
    pub sockets: Known<String>,
    /// Memory.
    pub memory: Known<String>,
}

/// A `hikube_gpu_vm` configuration.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct VmInput {
    /// `name`.
    pub name: Known<String>,
    /// The app kind the cluster serves (`VirtualMachine` or `VMInstance`); `None` until known.
    pub api_kind: Option<AppKind>,
    /// With `VMInstance`, the boot disk is a `VMDisk` named `name + disk_name_suffix`; `None`
    /// when the provider creates no disk.
    pub disk_name_suffix: Option<String>,
    /// `instance_type` (an empty string counts as not set).
    pub instance_type: Known<String>,
    /// `resources` (`Null` when the block is absent).
    pub resources: Known<VmResources>,
    /// `gpus[*].name`.
    pub gpus: Known<Vec<Known<String>>>,
    /// `system_disk.size`.
    pub system_disk_size: Known<String>,
}

/// `resources` of a node group.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct NodeGroupResources {
    /// vCPUs.
    pub cpu: Known<String>,
    /// Memory.
    pub memory: Known<String>,
}

/// A `hikube_gpu_nodegroup` configuration.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct NodeGroupInput {
    /// `cluster`: the `Kubernetes` app's name.
    pub cluster: Known<String>,
    /// `name`: the key in `nodeGroups`.
    pub name: Known<String>,
    /// `min_replicas`.
    pub min_replicas: Known<i64>,
    /// `max_replicas`.
    pub max_replicas: Known<i64>,
    /// `instance_type` (an empty string counts as not set).
    pub instance_type: Known<String>,
    /// `disk_size`.
    pub disk_size: Known<String>,
    /// `resources`.
    pub resources: Known<NodeGroupResources>,
    /// `gpus[*].name`.
    pub gpus: Known<Vec<Known<String>>>,
}

/// The vCPUs and memory a VM or node gets, and where they come from.
struct Shape {
    vcpu: Option<u32>,
    memory: Option<u128>,
    source: ShapeSource,
}

enum ShapeSource {
    /// An instance type; `explicit` is false for the chart's default.
    Type {
        t: InstanceType,
        explicit: bool,
    },
    Resources,
}

impl Shape {
    fn from_type(t: &InstanceType, explicit: bool) -> Shape {
        Shape {
            vcpu: Some(t.vcpu),
            memory: Some(t.memory_bytes),
            source: ShapeSource::Type {
                t: t.clone(),
                explicit,
            },
        }
    }

    fn type_text(t: &InstanceType, explicit: bool) -> String {
        if explicit {
            format!("`{}`", t.name)
        } else {
            format!("`{}` (the default when instance_type is not set)", t.name)
        }
    }
}

fn set_type(v: &Known<String>) -> Option<&str> {
    v.value().map(String::as_str).filter(|s| !s.is_empty())
}

/// Looks the instance type up; pushes a finding when it is not known.
fn check_instance_type(
    name: &str,
    ctx: &RuleContext,
    out: &mut Vec<Finding>,
) -> Option<InstanceType> {
    let cat = &ctx.instance_types;
    if let Some(t) = cat.get(name) {
        return Some(t.clone());
    }
    let suggestions = cat.suggest(name);
    let mean = if suggestions.is_empty() {
        String::new()
    } else {
        format!(
            " Nearest: {}.",
            suggestions
                .iter()
                .map(|s| format!("`{s}`"))
                .collect::<Vec<_>>()
                .join(", ")
        )
    };
    let fix = match suggestions.first() {
        Some(s) => format!("use `{s}`."),
        None => "use a type such as `u1.2xlarge` (see the GPU sizing guide for the list).".into(),
    };
    if cat.is_from_cluster() || InstanceCatalog::is_builtin_series(series_of(name)) {
        let whose = if cat.is_from_cluster() {
            "offered by this cluster"
        } else {
            "in the built-in table"
        };
        out.push(Finding::error(
            path(&["instance_type"]),
            "Unknown instance type",
            format!("Instance type `{name}` is not {whose}.{mean}"),
            fix,
        ));
    } else {
        out.push(Finding::warning(
            path(&["instance_type"]),
            "Instance type not in the built-in table",
            format!(
                "Instance type `{name}` is not a built-in type; it may be one the cluster defines, and is checked again when the provider can ask the cluster.{mean}"
            ),
            format!("if this is a typo, {fix}"),
        ));
    }
    None
}

/// Parses a whole, positive count (`cpu`, `sockets`).
fn check_count(
    v: &Known<String>,
    attr: &[&str],
    what: &str,
    example: &str,
    out: &mut Vec<Finding>,
) -> Option<u32> {
    let text = v.value()?;
    match Quantity::parse(text) {
        Err(e) => {
            out.push(Finding::error(
                path(attr),
                format!("Invalid {what}"),
                sentence(&e),
                match e.hint() {
                    Some(h) => format!("write `{h}`."),
                    None => format!("write a whole number such as `{example}`."),
                },
            ));
            None
        }
        Ok(q) => match q.whole_u32().filter(|n| *n >= 1) {
            Some(n) => Some(n),
            None => {
                out.push(Finding::error(
                    path(attr),
                    format!("Invalid {what}"),
                    format!("`{text}` is not a whole number of {what} of at least 1; Cozystack passes it to KubeVirt as an integer."),
                    format!("write a whole number such as `{example}`."),
                ));
                None
            }
        },
    }
}

/// Parses a memory or disk size in whole bytes within `[min, max]`.
fn check_bytes(
    v: &Known<String>,
    attr: &[&str],
    what: &str,
    min: u128,
    max: Option<u128>,
    example: &str,
    out: &mut Vec<Finding>,
) -> Option<u128> {
    let text = v.value()?;
    let q = match Quantity::parse(text) {
        Ok(q) => q,
        Err(e) => {
            out.push(Finding::error(
                path(attr),
                format!("Invalid {what}"),
                sentence(&e),
                match e.hint() {
                    Some(h) => format!("write `{h}`."),
                    None => format!("write a size such as `{example}`."),
                },
            ));
            return None;
        }
    };
    let Some(bytes) = q.bytes() else {
        out.push(Finding::error(
            path(attr),
            format!("Invalid {what}"),
            format!("`{text}` is not a whole, positive number of bytes."),
            format!("write a size such as `{example}`."),
        ));
        return None;
    };
    if bytes < min {
        out.push(Finding::error(
            path(attr),
            format!("{} too small", capitalize(what)),
            format!("`{text}` is below the minimum of {}.", format_units(min)),
            format!("use at least `{}`, e.g. `{example}`.", format_units(min)),
        ));
        return None;
    }
    if let Some(max) = max.filter(|m| bytes > *m) {
        out.push(Finding::error(
            path(attr),
            format!("{} too large", capitalize(what)),
            format!("`{text}` is above the maximum of {}.", format_units(max)),
            format!("use at most `{}`.", format_units(max)),
        ));
        return None;
    }
    Some(bytes)
}

/// `e` as a sentence: a final period unless it already ends with punctuation.
fn sentence(e: &impl fmt::Display) -> String {
    let s = e.to_string();
    if s.ends_with(['.', '?', '!']) {
        s
    } else {
        format!("{s}.")
    }
}

fn capitalize(s: &str) -> String {
    let mut c = s.chars();
    c.next()
        .map(|f| f.to_uppercase().chain(c).collect())
        .unwrap_or_default()
}

fn name_finding(attr: &str, e: &NameError) -> Finding {
    Finding::error(path(&[attr]), "Invalid name", sentence(e), e.fix())
}

/// Resolves every known GPU name, pushing findings; returns (index, resolved) pairs.
fn check_gpu_names(
    gpus: &[Known<String>],
    ctx: &RuleContext,
    out: &mut Vec<Finding>,
) -> Vec<(usize, ResolvedGpu)> {
    let mut resolved = Vec::new();
    for (i, g) in gpus.iter().enumerate() {
        let Some(name) = g.value() else { continue };
        match resolve_gpu(name, ctx.offered_gpus.as_deref()) {
            Ok(r) => {
                if r.resolution == Resolution::Unverified {
                    let mean = match r.suggestions.first() {
                        Some(s) => format!(" Did you mean `{s}`?"),
                        None => String::new(),
                    };
                    out.push(Finding::warning(
                        gpu_path(i),
                        "GPU type not in the catalog",
                        format!(
                            "`{name}` is not a GPU the provider knows; it is sent as written and checked against the cluster's list when the provider can ask the cluster.{mean}"
                        ),
                        match r.suggestions.first() {
                            Some(s) => format!("if this is a typo, write `{s}`."),
                            None => format!("if this is a typo, use one of {}.", valid_names_text()),
                        },
                    ));
                }
                resolved.push((i, r));
            }
            Err(e) => {
                let summary = match e {
                    GpuNameError::NotOffered { .. } => "GPU not offered by this cluster",
                    _ => "Unknown GPU type",
                };
                let body = match &e {
                    GpuNameError::Unknown { offered: None, .. } | GpuNameError::Empty => {
                        format!("{} Accepted: {}.", sentence(&e), valid_names_text())
                    }
                    GpuNameError::Unknown {
                        offered: Some(o), ..
                    } => {
                        let list: Vec<&str> = o.iter().map(|g| g.resource_name.as_str()).collect();
                        format!(
                            "{} This cluster offers: {}.",
                            sentence(&e),
                            if list.is_empty() {
                                "no GPUs".to_string()
                            } else {
                                list.join(", ")
                            }
                        )
                    }
                    GpuNameError::NotOffered { .. } => sentence(&e),
                };
                out.push(Finding::error(gpu_path(i), summary, body, e.fix()));
            }
        }
    }
    resolved
}

/// How the GPU list reads in a message: `4 x A100` when all entries are the same spelling.
fn gpus_text(gpus: &[Known<String>]) -> String {
    let n = gpus.len();
    let first = gpus.first().and_then(|g| g.value());
    match first {
        Some(f) if gpus.iter().all(|g| g.value() == Some(f)) => format!("{n} x {f}"),
        _ if n == 1 => "1 GPU".to_string(),
        _ => format!("{n} GPUs"),
    }
}

/// Warns when one node cannot hold the GPUs of one name that one VM or node asks for.
fn check_availability(resolved: &[(usize, ResolvedGpu)], who: &str, out: &mut Vec<Finding>) {
    let mut seen: Vec<&str> = Vec::new();
    for (_, r) in resolved {
        if seen.contains(&r.resource_name.as_str()) {
            continue;
        }
        seen.push(&r.resource_name);
        let Some(avail) = r.available else { continue };
        let count = resolved
            .iter()
            .filter(|(_, o)| o.resource_name == r.resource_name)
            .count() as u32;
        if count > avail {
            out.push(Finding::warning(
                path(&["gpus"]),
                "More GPUs than one node has free",
                format!(
                    "{who} asks for {count} x `{}` ({}), but the cluster reports {avail} available on one node, and all the GPUs of one VM come from one node; it will wait until enough are free.",
                    r.user_name, r.resource_name
                ),
                format!("request at most {avail}, or ask your Hikube administrator for more capacity."),
            ));
        }
    }
}

/// gn1 + `gpus`, and the 4 GiB memory minimum.
fn check_gpu_shape(
    shape: &Shape,
    gpus: &[Known<String>],
    ctx: &RuleContext,
    out: &mut Vec<Finding>,
) {
    if gpus.is_empty() {
        return;
    }
    if let ShapeSource::Type { t, explicit } = &shape.source
        && let Some(builtin) = &t.gpu
    {
        let size = t.name.split_once('.').map_or("", |(_, s)| s);
        let alt = format!("u1.{size}");
        let fix = if ctx.instance_types.get(&alt).is_some() {
            format!(
                "remove `gpus` to use the built-in GPU, or keep `gpus` and use `{alt}` (same size, no built-in GPU)."
            )
        } else {
            "remove `gpus` to use the built-in GPU, or choose a type without one (e.g. a u1 type)."
                .into()
        };
        out.push(Finding::error(
            path(&["gpus"]),
            "Instance type already carries a GPU",
            format!(
                "{} already includes a `{builtin}`; adding {} would attach GPUs on top of it.",
                Shape::type_text(t, *explicit),
                gpus_text(gpus)
            ),
            fix,
        ));
        return;
    }
    let Some(mem) = shape.memory else { return };
    if mem >= MIN_GPU_VM_MEMORY {
        return;
    }
    match &shape.source {
        ShapeSource::Type { t, explicit } => {
            let better = ctx
                .instance_types
                .fit_for_gpus(t, gpus.len() as u32)
                .filter(|f| f.memory_bytes >= MIN_GPU_VM_MEMORY)
                .or_else(|| ctx.instance_types.smallest_fitting(Some(&t.series), t.vcpu, MIN_GPU_VM_MEMORY));
            out.push(Finding::error(
                path(&["instance_type"]),
                "Not enough memory for the NVIDIA driver",
                format!(
                    "{} has {} of memory; the NVIDIA driver needs at least 4Gi in a VM with GPUs.",
                    Shape::type_text(t, *explicit),
                    t.memory_text()
                ),
                match better {
                    Some(b) => format!("use `{}` ({} vCPU, {}).", b.name, b.vcpu, b.memory_text()),
                    None => "use an instance type with at least 4Gi of memory.".into(),
                },
            ));
        }
        ShapeSource::Resources => out.push(Finding::error(
            path(&["resources", "memory"]),
            "Not enough memory for the NVIDIA driver",
            format!(
                "`resources.memory` gives {} of memory; the NVIDIA driver needs at least 4Gi in a VM with GPUs.",
                format_units(mem)
            ),
            "set `memory = \"4Gi\"` or more.",
        )),
    }
}

fn per_gpu_text(vcpu: u32, gpus: u32) -> String {
    if vcpu.is_multiple_of(gpus) {
        (vcpu / gpus).to_string()
    } else {
        let v = f64::from(vcpu) / f64::from(gpus);
        let s = format!("{v:.2}");
        s.trim_end_matches('0').trim_end_matches('.').to_string()
    }
}

/// The 8 to 16 vCPU per GPU advice (VMs).
fn check_vcpu_per_gpu(
    shape: &Shape,
    gpus: &[Known<String>],
    sockets: Option<u32>,
    ctx: &RuleContext,
    out: &mut Vec<Finding>,
) {
    let n = gpus.len() as u32;
    let Some(vcpu) = shape.vcpu else { return };
    if n == 0 || (MIN_VCPU_PER_GPU * n..=MAX_VCPU_PER_GPU * n).contains(&vcpu) {
        return;
    }
    let per = per_gpu_text(vcpu, n);
    let advice = format!("Hikube recommends {MIN_VCPU_PER_GPU} to {MAX_VCPU_PER_GPU}.");
    let (lo, hi) = (MIN_VCPU_PER_GPU * n, MAX_VCPU_PER_GPU * n);
    match &shape.source {
        ShapeSource::Type { t, explicit } => {
            if t.gpu.is_some() {
                return; // gn1 + gpus is already an error.
            }
            let on = if *explicit {
                format!("{} ({} vCPU)", t.name, t.vcpu)
            } else {
                format!("{} (the default instance type, {} vCPU)", t.name, t.vcpu)
            };
            let fix = match ctx.instance_types.fit_for_gpus(t, n) {
                Some(f) => format!("use {}.", f.describe()),
                None => format!(
                    "no {} size gives {lo} to {hi} vCPUs; use another series, fewer GPUs per VM, or `resources` with {lo} to {hi} vCPUs.",
                    t.series
                ),
            };
            out.push(Finding::warning(
                path(&["instance_type"]),
                "vCPU per GPU outside the recommended range",
                format!(
                    "{} on {on} gives {per} vCPU per GPU; {advice}",
                    gpus_text(gpus)
                ),
                fix,
            ));
        }
        ShapeSource::Resources => {
            let sockets = sockets.unwrap_or(1).max(1);
            let target = if vcpu < lo { lo } else { hi };
            let fix = if target % sockets == 0 {
                format!(
                    "set `cpu = \"{}\"` ({} vCPU with {sockets} socket(s)).",
                    target / sockets,
                    target
                )
            } else {
                format!("set `cpu = \"{target}\"` and `sockets = \"1\"` ({target} vCPU).")
            };
            out.push(Finding::warning(
                path(&["resources", "cpu"]),
                "vCPU per GPU outside the recommended range",
                format!(
                    "{} on {vcpu} vCPU (cpu x sockets) gives {per} vCPU per GPU; {advice}",
                    gpus_text(gpus)
                ),
                fix,
            ));
        }
    }
}

fn check_vm_name(input: &VmInput, out: &mut Vec<Finding>) {
    let Some(name) = input.name.value() else {
        return;
    };
    let kind = input.api_kind.unwrap_or(AppKind::VMInstance);
    if let Err(e) = check_name(kind, name) {
        out.push(name_finding("name", &e));
        return;
    }
    if input.api_kind.is_none() && name.len() > max_name_len(AppKind::VirtualMachine) {
        let max = max_name_len(AppKind::VirtualMachine);
        out.push(Finding::warning(
            path(&["name"]),
            "Name too long for older Cozystack",
            format!(
                "`{name}` is {} characters long; clusters running Cozystack before v1.0 serve VMs as `VirtualMachine`, whose names may have at most {max}.",
                name.len()
            ),
            format!("shorten it to {max} characters or fewer."),
        ));
    }
    if matches!(input.api_kind, None | Some(AppKind::VMInstance))
        && let Some(suffix) = &input.disk_name_suffix
    {
        let disk = format!("{name}{suffix}");
        let max = max_name_len(AppKind::VMDisk);
        if disk.len() > max {
            let room = max.saturating_sub(suffix.len());
            let body = format!(
                "The boot disk is a VMDisk named `{disk}` ({} characters); a VMDisk name may have at most {max}.",
                disk.len()
            );
            let fix = format!("shorten the name to {room} characters or fewer.");
            out.push(if input.api_kind.is_some() {
                Finding::error(
                    path(&["name"]),
                    "Name too long for the boot disk",
                    body,
                    fix,
                )
            } else {
                Finding::warning(
                    path(&["name"]),
                    "Name too long for the boot disk",
                    body,
                    fix,
                )
            });
        }
    }
}

/// Checks a `hikube_gpu_vm` configuration.
pub fn check_vm(input: &VmInput, ctx: &RuleContext) -> Vec<Finding> {
    let mut out = Vec::new();
    check_vm_name(input, &mut out);

    // Sizing: instance type or resources.
    let it = set_type(&input.instance_type);
    let res = input.resources.value();
    let res_set: Vec<&str> = res
        .map(|r| {
            [
                ("cpu", &r.cpu),
                ("sockets", &r.sockets),
                ("memory", &r.memory),
            ]
            .into_iter()
            .filter(|(_, v)| v.value().is_some())
            .map(|(n, _)| n)
            .collect()
        })
        .unwrap_or_default();
    let mut shape: Option<Shape> = None;
    let mut sockets = None;
    if let (Some(it), false) = (it, res_set.is_empty()) {
        out.push(Finding::error(
            path(&["resources"]),
            "instance_type and resources are both set",
            format!(
                "`instance_type = \"{it}\"` and `resources` ({}) both size the VM; Cozystack and KubeVirt refuse a VM with both.",
                res_set.join(", ")
            ),
            "remove `resources`, or remove `instance_type` and set cpu, sockets and memory in `resources`.",
        ));
    } else if let Some(it) = it {
        if let Some(t) = check_instance_type(it, ctx, &mut out) {
            shape = Some(Shape::from_type(&t, true));
        }
    } else if let Some(r) = res.filter(|_| !res_set.is_empty()) {
        // Without an instance type the API needs cpu, sockets and memory together.
        if !input.instance_type.is_unknown() {
            for (field, v, example) in [
                ("cpu", &r.cpu, "8"),
                ("sockets", &r.sockets, "1"),
                ("memory", &r.memory, "32Gi"),
            ] {
                if v.is_null() {
                    out.push(Finding::error(
                        path(&["resources", field]),
                        format!("resources.{field} is missing"),
                        format!(
                            "Without instance_type, Cozystack needs cpu, sockets and memory together; this VM sets only {}.",
                            res_set.join(" and ")
                        ),
                        format!("add `{field} = \"{example}\"` (or set instance_type instead of resources)."),
                    ));
                }
            }
        }
        let cpu = check_count(&r.cpu, &["resources", "cpu"], "vCPUs", "8", &mut out);
        sockets = check_count(
            &r.sockets,
            &["resources", "sockets"],
            "sockets",
            "1",
            &mut out,
        );
        let memory = check_bytes(
            &r.memory,
            &["resources", "memory"],
            "memory",
            1,
            None,
            "32Gi",
            &mut out,
        );
        shape = Some(Shape {
            vcpu: cpu.zip(sockets).map(|(c, s)| c.saturating_mul(s)),
            memory,
            source: ShapeSource::Resources,
        });
    } else if input.instance_type.is_null() && !input.resources.is_unknown() && res_set.is_empty() {
        let all_null =
            res.is_none_or(|r| r.cpu.is_null() && r.sockets.is_null() && r.memory.is_null());
        if all_null && let Some(t) = ctx.instance_types.get(DEFAULT_INSTANCE_TYPE) {
            shape = Some(Shape::from_type(t, false));
        }
    }

    // GPUs.
    if let Some(gpus) = input.gpus.value() {
        let resolved = check_gpu_names(gpus, ctx, &mut out);
        if let Some(shape) = &shape {
            check_gpu_shape(shape, gpus, ctx, &mut out);
            check_vcpu_per_gpu(shape, gpus, sockets, ctx, &mut out);
        }
        check_availability(&resolved, "This VM", &mut out);
    }

    check_bytes(
        &input.system_disk_size,
        &["system_disk", "size"],
        "disk size",
        MIN_DISK_BYTES,
        Some(MAX_DISK_BYTES),
        "50Gi",
        &mut out,
    );
    out
}

/// Checks a `hikube_gpu_nodegroup` configuration.
pub fn check_nodegroup(input: &NodeGroupInput, ctx: &RuleContext) -> Vec<Finding> {
    let mut out = Vec::new();
    if let Some(c) = input.cluster.value()
        && let Err(e) = check_name(AppKind::Kubernetes, c)
    {
        out.push(name_finding("cluster", &e));
    }
    if let Some(n) = input.name.value()
        && let Err(e) = check_dns1035(n)
    {
        out.push(name_finding("name", &e));
    }

    // Replicas.
    let min = input.min_replicas.value().copied();
    let max = input.max_replicas.value().copied();
    if let Some(m) = min.filter(|m| *m < 0) {
        out.push(Finding::error(
            path(&["min_replicas"]),
            "min_replicas is negative",
            format!("`min_replicas = {m}`: a node group cannot have fewer than 0 nodes."),
            "use 0 or more.",
        ));
    }
    match max {
        Some(m) if m < 0 => out.push(Finding::error(
            path(&["max_replicas"]),
            "max_replicas is negative",
            format!("`max_replicas = {m}`: a node group cannot have fewer than 0 nodes."),
            "use 1 or more.",
        )),
        Some(0) => out.push(Finding::error(
            path(&["max_replicas"]),
            "max_replicas must be at least 1",
            "`max_replicas = 0` leaves the node group without any node.",
            "use 1 or more, or delete the node group.",
        )),
        _ => {}
    }
    if let (Some(lo), Some(hi)) = (min, max)
        && lo >= 0
        && hi >= 1
        && lo > hi
    {
        out.push(Finding::error(
                path(&["min_replicas"]),
                "min_replicas is above max_replicas",
                format!("`min_replicas = {lo}` is above `max_replicas = {hi}`; the autoscaler needs min <= max."),
                format!("lower min_replicas to {hi} or raise max_replicas to {lo}."),
            ));
    }

    // Sizing.
    let it = set_type(&input.instance_type);
    let mut it_type = None;
    if let Some(it) = it {
        it_type = check_instance_type(it, ctx, &mut out);
    }
    let mut shape: Option<Shape> = None;
    let res = input.resources.value();
    let cpu_set = res.is_some_and(|r| r.cpu.value().is_some());
    let mem_set = res.is_some_and(|r| r.memory.value().is_some());
    if let Some(r) = res {
        for (field, other, v, other_v, example) in [
            ("cpu", "memory", &r.cpu, &r.memory, "8"),
            ("memory", "cpu", &r.memory, &r.cpu, "32Gi"),
        ] {
            if v.is_null() && other_v.value().is_some() {
                out.push(Finding::error(
                    path(&["resources", field]),
                    format!("resources.{field} is missing"),
                    format!("`resources` sets {other} without {field}; Cozystack needs both (one alone makes the cluster fail to render)."),
                    format!("add `{field} = \"{example}\"`, or remove `resources` to use instance_type."),
                ));
            }
        }
        let cpu = check_count(&r.cpu, &["resources", "cpu"], "vCPUs", "8", &mut out);
        let memory = check_bytes(
            &r.memory,
            &["resources", "memory"],
            "memory",
            1,
            None,
            "32Gi",
            &mut out,
        );
        if cpu_set && mem_set {
            if let Some(it) = it {
                out.push(Finding::warning(
                    path(&["resources"]),
                    "resources replace instance_type",
                    format!("`resources` sets both cpu and memory, so the nodes do not use `instance_type = \"{it}\"`."),
                    "remove `instance_type`, or remove `resources` to use the instance type.",
                ));
            }
            shape = Some(Shape {
                vcpu: cpu,
                memory,
                source: ShapeSource::Resources,
            });
        }
    }
    let res_may_apply = res.is_some_and(|r| r.cpu.is_unknown() || r.memory.is_unknown())
        || input.resources.is_unknown();
    if shape.is_none() && !res_may_apply && !(cpu_set || mem_set) {
        if let Some(t) = &it_type {
            shape = Some(Shape::from_type(t, true));
        } else if input.instance_type.is_null()
            && let Some(t) = ctx.instance_types.get(DEFAULT_INSTANCE_TYPE)
        {
            shape = Some(Shape::from_type(t, false));
        }
    }

    check_bytes(
        &input.disk_size,
        &["disk_size"],
        "disk size",
        MIN_DISK_BYTES,
        Some(MAX_DISK_BYTES),
        "50Gi",
        &mut out,
    );

    if let Some(gpus) = input.gpus.value() {
        let resolved = check_gpu_names(gpus, ctx, &mut out);
        if let Some(shape) = &shape {
            check_gpu_shape(shape, gpus, ctx, &mut out);
        }
        check_availability(&resolved, "Each node of this group", &mut out);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn v(s: &str) -> Known<String> {
        Known::Value(s.to_string())
    }

    fn gpus(names: &[&str]) -> Known<Vec<Known<String>>> {
        Known::Value(names.iter().map(|n| v(n)).collect())
    }

    fn vm(instance_type: &str, g: &[&str]) -> VmInput {
        VmInput {
            name: v("gpu-vm"),
            instance_type: v(instance_type),
            gpus: gpus(g),
            system_disk_size: v("50Gi"),
            ..Default::default()
        }
    }

    fn offline() -> RuleContext {
        RuleContext::offline()
    }

    fn hikube() -> RuleContext {
        RuleContext::online(
            InstanceCatalog::builtin(),
            Some(vec![
                OfferedGpu::new("nvidia.com/AD102GL_L40S", Some(2)),
                OfferedGpu::new("nvidia.com/GA100_A100_PCIE_80GB", Some(8)),
                OfferedGpu::new("nvidia.com/H100_94GB", None),
            ]),
        )
    }

    /// (severity, path, summary) of each finding.
    fn brief(f: &[Finding]) -> Vec<(Severity, String, String)> {
        f.iter()
            .map(|f| (f.severity, f.path_string(), f.summary.clone()))
            .collect()
    }

    fn assert_well_formed(f: &[Finding]) {
        for x in f {
            assert!(!x.summary.is_empty());
            let at = x.detail.rfind(" Fix: ").expect("a fix");
            assert!(x.detail[..at].ends_with(['.', '?', '!']), "{x}");
            assert!(!x.fix().is_empty(), "{x}");
            assert!(!x.fix().contains('\n'), "{x}");
        }
    }

    fn only(f: Vec<Finding>) -> Finding {
        assert_well_formed(&f);
        assert_eq!(f.len(), 1, "{:#?}", f);
        f.into_iter().next().unwrap()
    }

    #[test]
    fn good_configurations_are_clean() {
        for (it, g) in [
            ("u1.2xlarge", vec!["nvidia.com/A100"]),
            ("u1.8xlarge", vec!["H100"; 4]),
            ("u1.4xlarge", vec!["L40S", "l40s"]),
            ("u1.large", vec![]),
        ] {
            let f = check_vm(&vm(it, &g), &offline());
            assert!(f.is_empty(), "{it}: {f:#?}");
        }
        let f = check_vm(&vm("u1.2xlarge", &["nvidia.com/A100"]), &hikube());
        assert!(f.is_empty(), "{f:#?}");
    }

    #[test]
    fn sizing_example_from_the_issue() {
        let f = only(check_vm(&vm("u1.2xlarge", &["A100"; 4]), &offline()));
        assert_eq!(f.severity, Severity::Warning);
        assert_eq!(f.path_string(), "instance_type");
        assert_eq!(
            f.detail,
            "4 x A100 on u1.2xlarge (8 vCPU) gives 2 vCPU per GPU; Hikube recommends 8 to 16. Fix: use u1.8xlarge (32 vCPU, 128Gi)."
        );
    }

    #[test]
    fn sizing_too_many_vcpus_and_no_fit() {
        let f = only(check_vm(&vm("u1.8xlarge", &["L40S"]), &offline()));
        assert!(f.detail.contains("gives 32 vCPU per GPU"), "{}", f.detail);
        assert_eq!(f.fix(), "use u1.4xlarge (16 vCPU, 64Gi).");
        let f = only(check_vm(&vm("u1.2xlarge", &["L40S"; 8]), &offline()));
        assert!(
            f.fix().starts_with("no u1 size gives 64 to 128 vCPUs"),
            "{}",
            f.fix()
        );
        // Fractions read naturally.
        let f = only(check_vm(
            &vm("u1.medium", &["L40S", "L40S", "A100"]),
            &offline(),
        ));
        assert!(
            f.detail
                .starts_with("3 GPUs on u1.medium (1 vCPU) gives 0.33 vCPU per GPU"),
            "{}",
            f.detail
        );
        assert_eq!(f.fix(), "use u1.8xlarge (32 vCPU, 128Gi).");
    }

    #[test]
    fn default_instance_type_is_sized_too() {
        let input = VmInput {
            name: v("gpu-vm"),
            gpus: gpus(&["L40S"]),
            ..Default::default()
        };
        let f = only(check_vm(&input, &offline()));
        assert!(
            f.detail
                .contains("u1.medium (the default instance type, 1 vCPU)"),
            "{}",
            f.detail
        );
        assert_eq!(f.fix(), "use u1.2xlarge (8 vCPU, 32Gi).");
    }

    #[test]
    fn unknown_gpu_type_offline() {
        let f = only(check_vm(&vm("u1.2xlarge", &["L4OS"]), &offline()));
        assert_eq!(
            brief(std::slice::from_ref(&f)),
            vec![(
                Severity::Error,
                "gpus[0].name".into(),
                "Unknown GPU type".into()
            )]
        );
        assert!(
            f.detail.starts_with(
                "unknown GPU type `L4OS`; did you mean `L40S`? Accepted: L40S, A100, H100"
            ),
            "{}",
            f.detail
        );
        assert_eq!(f.fix(), "write `L40S`.");
        // Case-insensitive short names are fine.
        assert!(check_vm(&vm("u1.2xlarge", &["a100"]), &offline()).is_empty());
    }

    #[test]
    fn unverified_gpu_name_offline_warns() {
        let f = only(check_vm(
            &vm("u1.2xlarge", &["nvidia.com/L4OS"]),
            &offline(),
        ));
        assert_eq!(f.severity, Severity::Warning);
        assert_eq!(f.path_string(), "gpus[0].name");
        assert_eq!(f.fix(), "if this is a typo, write `nvidia.com/L40S`.");
    }

    #[test]
    fn gpu_not_offered_by_the_cluster() {
        let f = only(check_vm(&vm("u1.2xlarge", &["nvidia.com/H200"]), &hikube()));
        assert_eq!(f.severity, Severity::Error);
        assert_eq!(f.summary, "GPU not offered by this cluster");
        assert_eq!(f.path_string(), "gpus[0].name");
        assert!(
            f.detail
                .contains("offered: nvidia.com/AD102GL_L40S (L40S, 2 available)"),
            "{}",
            f.detail
        );
        // Offline the same name is a catalog model and resolves.
        assert!(check_vm(&vm("u1.2xlarge", &["nvidia.com/H200"]), &offline()).is_empty());
        // Unknown online: lists the offered names.
        let f = only(check_vm(&vm("u1.2xlarge", &["nvidia.com/XYZ"]), &hikube()));
        assert!(
            f.detail
                .contains("This cluster offers: nvidia.com/AD102GL_L40S, "),
            "{}",
            f.detail
        );
        // A custom name the cluster advertises is fine.
        let ctx = RuleContext::online(
            InstanceCatalog::builtin(),
            Some(vec![OfferedGpu::new("nvidia.com/XYZ", None)]),
        );
        assert!(check_vm(&vm("u1.2xlarge", &["nvidia.com/XYZ"]), &ctx).is_empty());
    }

    #[test]
    fn gpu_count_above_availability_warns() {
        let f = only(check_vm(
            &vm("u1.8xlarge", &["L40S", "L40S", "nvidia.com/L40S"]),
            &hikube(),
        ));
        assert_eq!(f.severity, Severity::Warning);
        assert_eq!(f.path_string(), "gpus");
        assert!(f.detail.starts_with("This VM asks for 3 x `L40S` (nvidia.com/AD102GL_L40S), but the cluster reports 2 available"), "{}", f.detail);
        assert_eq!(
            f.fix(),
            "request at most 2, or ask your Hikube administrator for more capacity."
        );
        assert!(check_vm(&vm("u1.4xlarge", &["L40S", "L40S"]), &hikube()).is_empty());
        // Offline: nothing to compare with.
        assert!(check_vm(&vm("u1.8xlarge", &["L40S"; 3]), &offline()).is_empty());
    }

    #[test]
    fn unknown_instance_type() {
        let f = only(check_vm(&vm("u1.3xlarge", &["L40S"]), &offline()));
        assert_eq!(
            (f.severity, f.path_string()),
            (Severity::Error, "instance_type".into())
        );
        assert!(f.detail.contains("Instance type `u1.3xlarge` is not in the built-in table. Nearest: `u1.2xlarge`, `u1.4xlarge`, `u1.8xlarge`."), "{}", f.detail);
        assert_eq!(f.fix(), "use `u1.2xlarge`.");
        // A series the provider does not know: a warning offline, an error with the cluster's list.
        let f = only(check_vm(&vm("hk9.gpu", &["L40S"]), &offline()));
        assert_eq!(f.severity, Severity::Warning);
        let online = RuleContext::online(InstanceCatalog::with_cluster(vec![]), None);
        let f = only(check_vm(&vm("hk9.gpu", &["L40S"]), &online));
        assert_eq!(f.severity, Severity::Error);
        assert!(
            f.detail.contains("not offered by this cluster"),
            "{}",
            f.detail
        );
        // ... and a cluster type is accepted and sized.
        let online = RuleContext::online(
            InstanceCatalog::with_cluster(vec![InstanceType::new("hk9.gpu", 12, 48 << 30)]),
            None,
        );
        assert!(check_vm(&vm("hk9.gpu", &["L40S"]), &online).is_empty());
    }

    #[test]
    fn instance_type_and_resources_conflict() {
        let mut input = vm("u1.2xlarge", &["L40S"]);
        input.resources = Known::Value(VmResources {
            cpu: v("8"),
            memory: v("32Gi"),
            ..Default::default()
        });
        let f = only(check_vm(&input, &offline()));
        assert_eq!(
            (f.severity, f.path_string()),
            (Severity::Error, "resources".into())
        );
        assert!(
            f.detail.starts_with(
                "`instance_type = \"u1.2xlarge\"` and `resources` (cpu, memory) both size the VM"
            ),
            "{}",
            f.detail
        );
        // An empty instance_type counts as unset.
        input.instance_type = v("");
        input.resources = Known::Value(VmResources {
            cpu: v("8"),
            sockets: v("1"),
            memory: v("32Gi"),
        });
        assert!(check_vm(&input, &offline()).is_empty());
    }

    #[test]
    fn partial_resources_are_an_error() {
        let input = VmInput {
            name: v("gpu-vm"),
            resources: Known::Value(VmResources {
                cpu: v("8"),
                memory: v("32Gi"),
                ..Default::default()
            }),
            gpus: gpus(&["L40S"]),
            ..Default::default()
        };
        let f = only(check_vm(&input, &offline()));
        assert_eq!(
            (f.severity, f.path_string()),
            (Severity::Error, "resources.sockets".into())
        );
        assert!(
            f.detail.contains("this VM sets only cpu and memory"),
            "{}",
            f.detail
        );
        assert_eq!(
            f.fix(),
            "add `sockets = \"1\"` (or set instance_type instead of resources)."
        );
        // An unknown sockets is not an error.
        let mut input = input;
        if let Known::Value(r) = &mut input.resources {
            r.sockets = Known::Unknown;
        }
        assert!(check_vm(&input, &offline()).is_empty());
    }

    #[test]
    fn resources_values_are_checked() {
        let input = VmInput {
            resources: Known::Value(VmResources {
                cpu: v("500m"),
                sockets: v("0"),
                memory: v("32GB"),
            }),
            ..Default::default()
        };
        let f = check_vm(&input, &offline());
        assert_well_formed(&f);
        assert_eq!(
            brief(&f),
            vec![
                (
                    Severity::Error,
                    "resources.cpu".into(),
                    "Invalid vCPUs".into()
                ),
                (
                    Severity::Error,
                    "resources.sockets".into(),
                    "Invalid sockets".into()
                ),
                (
                    Severity::Error,
                    "resources.memory".into(),
                    "Invalid memory".into()
                ),
            ]
        );
        assert!(
            f[0].detail
                .starts_with("`500m` is not a whole number of vCPUs")
        );
        assert!(
            f[2].detail
                .starts_with("`32GB` is not a Kubernetes quantity (did you mean `32G`?)"),
            "{}",
            f[2].detail
        );
        assert_eq!(f[2].fix(), "write `32G`.");
        assert!(f[2].detail.contains("200G. Fix: "), "{}", f[2].detail);
    }

    #[test]
    fn vcpu_per_gpu_with_resources_counts_cores_times_sockets() {
        let mk = |cpu: &str, sockets: &str, n: usize| VmInput {
            name: v("gpu-vm"),
            instance_type: Known::Null,
            resources: Known::Value(VmResources {
                cpu: v(cpu),
                sockets: v(sockets),
                memory: v("64Gi"),
            }),
            gpus: gpus(&vec!["A100"; n]),
            ..Default::default()
        };
        assert!(check_vm(&mk("8", "2", 2), &offline()).is_empty()); // 16 vCPU, 8 per GPU
        let f = only(check_vm(&mk("4", "1", 2), &offline()));
        assert_eq!(
            (f.severity, f.path_string()),
            (Severity::Warning, "resources.cpu".into())
        );
        assert!(
            f.detail
                .starts_with("2 x A100 on 4 vCPU (cpu x sockets) gives 2 vCPU per GPU"),
            "{}",
            f.detail
        );
        assert_eq!(f.fix(), "set `cpu = \"16\"` (16 vCPU with 1 socket(s)).");
        let f = only(check_vm(&mk("2", "3", 1), &offline()));
        assert_eq!(f.fix(), "set `cpu = \"8\"` and `sockets = \"1\"` (8 vCPU).");
        let f = only(check_vm(&mk("16", "2", 1), &offline()));
        assert_eq!(f.fix(), "set `cpu = \"8\"` (16 vCPU with 2 socket(s)).");
    }

    #[test]
    fn gn1_with_gpus_is_an_error() {
        let f = only(check_vm(&vm("gn1.2xlarge", &["L40S"]), &offline()));
        assert_eq!(
            (f.severity, f.path_string()),
            (Severity::Error, "gpus".into())
        );
        assert!(
            f.detail
                .starts_with("`gn1.2xlarge` already includes a `nvidia.com/A400`; adding 1 x L40S"),
            "{}",
            f.detail
        );
        assert!(f.fix().contains("`u1.2xlarge`"), "{}", f.fix());
        // gn1 alone is fine.
        assert!(check_vm(&vm("gn1.2xlarge", &[]), &offline()).is_empty());
    }

    #[test]
    fn gpu_needs_4gi_of_memory() {
        let f = check_vm(&vm("u1.small", &["L40S"]), &offline());
        assert_well_formed(&f);
        assert_eq!(
            brief(&f),
            vec![
                (
                    Severity::Error,
                    "instance_type".into(),
                    "Not enough memory for the NVIDIA driver".into()
                ),
                (
                    Severity::Warning,
                    "instance_type".into(),
                    "vCPU per GPU outside the recommended range".into()
                ),
            ]
        );
        assert!(
            f[0].detail.starts_with("`u1.small` has 2Gi of memory"),
            "{}",
            f[0].detail
        );
        assert_eq!(f[0].fix(), "use `u1.2xlarge` (8 vCPU, 32Gi).");
        // With resources.
        let input = VmInput {
            resources: Known::Value(VmResources {
                cpu: v("8"),
                sockets: v("1"),
                memory: v("2Gi"),
            }),
            gpus: gpus(&["L40S"]),
            ..Default::default()
        };
        let f = only(check_vm(&input, &offline()));
        assert_eq!(
            (f.severity, f.path_string()),
            (Severity::Error, "resources.memory".into())
        );
        assert_eq!(f.fix(), "set `memory = \"4Gi\"` or more.");
        // Exactly 4Gi is enough; no GPU, no rule.
        let input = VmInput {
            resources: Known::Value(VmResources {
                cpu: v("8"),
                sockets: v("1"),
                memory: v("4096Mi"),
            }),
            gpus: gpus(&["L40S"]),
            ..Default::default()
        };
        assert!(check_vm(&input, &offline()).is_empty());
        assert!(check_vm(&vm("u1.small", &[]), &offline()).is_empty());
    }

    #[test]
    fn vm_names() {
        let mut input = vm("u1.2xlarge", &["L40S"]);
        input.name = v("GPU_vm");
        let f = only(check_vm(&input, &offline()));
        assert_eq!(
            (f.severity, f.path_string()),
            (Severity::Error, "name".into())
        );
        assert_eq!(f.fix(), "use `gpu-vm`.");
        // 39 characters: fine for VMInstance, too long for VirtualMachine.
        input.name = v(&"a".repeat(39));
        input.api_kind = Some(AppKind::VMInstance);
        assert!(check_vm(&input, &offline()).is_empty());
        input.api_kind = Some(AppKind::VirtualMachine);
        let f = only(check_vm(&input, &offline()));
        assert!(f.is_error());
        input.api_kind = None;
        let f = only(check_vm(&input, &offline()));
        assert_eq!(f.severity, Severity::Warning);
        input.name = v(&"a".repeat(42));
        assert!(only(check_vm(&input, &offline())).is_error());
        // The boot disk's name.
        input.name = v(&"a".repeat(40));
        input.api_kind = Some(AppKind::VMInstance);
        input.disk_name_suffix = Some("-system".into());
        let f = only(check_vm(&input, &offline()));
        assert_eq!(f.summary, "Name too long for the boot disk");
        assert_eq!(f.fix(), "shorten the name to 38 characters or fewer.");
        input.name = v(&"a".repeat(38));
        assert!(check_vm(&input, &offline()).is_empty());
    }

    #[test]
    fn system_disk_size() {
        for (size, summary) in [
            ("5GiB", "Invalid disk size"),
            ("512Mi", "Disk size too small"),
            ("65Ti", "Disk size too large"),
            ("-5Gi", "Invalid disk size"),
            ("1.5", "Invalid disk size"),
        ] {
            let mut input = vm("u1.2xlarge", &["L40S"]);
            input.system_disk_size = v(size);
            let f = only(check_vm(&input, &offline()));
            assert_eq!(
                (f.severity, f.path_string(), f.summary.as_str()),
                (Severity::Error, "system_disk.size".into(), summary),
                "{size}"
            );
            assert!(f.detail.contains(&format!("`{size}`")), "{}", f.detail);
        }
        for size in ["1Gi", "200Gi", "64Ti", "200G"] {
            let mut input = vm("u1.2xlarge", &["L40S"]);
            input.system_disk_size = v(size);
            assert!(check_vm(&input, &offline()).is_empty(), "{size}");
        }
    }

    #[test]
    fn unknown_values_skip_rules() {
        let input = VmInput {
            name: Known::Unknown,
            instance_type: Known::Unknown,
            resources: Known::Unknown,
            gpus: Known::Value(vec![Known::Unknown, Known::Unknown]),
            system_disk_size: Known::Unknown,
            ..Default::default()
        };
        assert!(check_vm(&input, &hikube()).is_empty());
        let input = VmInput {
            instance_type: v("u1.2xlarge"),
            gpus: Known::Unknown,
            ..Default::default()
        };
        assert!(check_vm(&input, &hikube()).is_empty());
        // The list length is known even when the names are not: sizing still runs.
        let input = VmInput {
            instance_type: v("u1.2xlarge"),
            gpus: Known::Value(vec![Known::Unknown; 4]),
            ..Default::default()
        };
        let f = only(check_vm(&input, &offline()));
        assert!(f.detail.starts_with("4 GPUs on u1.2xlarge"), "{}", f.detail);
        // Unknown instance_type with partial resources: no completeness error (instance_type may be set).
        let input = VmInput {
            instance_type: Known::Unknown,
            resources: Known::Value(VmResources {
                cpu: v("8"),
                ..Default::default()
            }),
            ..Default::default()
        };
        assert!(check_vm(&input, &offline()).is_empty());
    }

    fn ng() -> NodeGroupInput {
        NodeGroupInput {
            cluster: v("cluster-gpu"),
            name: v("gpu-workers"),
            min_replicas: Known::Value(1),
            max_replicas: Known::Value(5),
            instance_type: v("u1.xlarge"),
            disk_size: v("100Gi"),
            gpus: gpus(&["nvidia.com/L40S"]),
            ..Default::default()
        }
    }

    #[test]
    fn nodegroup_seed_examples_are_clean() {
        assert!(check_nodegroup(&ng(), &offline()).is_empty());
        assert!(check_nodegroup(&ng(), &hikube()).is_empty());
        // The seed's u1.large + L40S and u1.4xlarge + 4 x A100: no vCPU-per-GPU warning for node groups.
        let mut n = ng();
        n.instance_type = v("u1.large");
        assert!(check_nodegroup(&n, &offline()).is_empty());
        n.instance_type = v("u1.4xlarge");
        n.gpus = gpus(&["nvidia.com/A100"; 4]);
        assert!(check_nodegroup(&n, &offline()).is_empty());
    }

    #[test]
    fn nodegroup_replicas() {
        type Case<'a> = (i64, i64, &'a [(&'a str, &'a str)]);
        let cases: &[Case] = &[
            (0, 1, &[]),
            (3, 3, &[]),
            (
                4,
                2,
                &[("min_replicas", "min_replicas is above max_replicas")],
            ),
            (-1, 2, &[("min_replicas", "min_replicas is negative")]),
            (0, 0, &[("max_replicas", "max_replicas must be at least 1")]),
            (1, -2, &[("max_replicas", "max_replicas is negative")]),
        ];
        for (min, max, want) in cases {
            let mut n = ng();
            n.min_replicas = Known::Value(*min);
            n.max_replicas = Known::Value(*max);
            let f = check_nodegroup(&n, &offline());
            assert_well_formed(&f);
            let got: Vec<(String, String)> = f
                .iter()
                .map(|f| (f.path_string(), f.summary.clone()))
                .collect();
            let want: Vec<(String, String)> = want
                .iter()
                .map(|(p, s)| (p.to_string(), s.to_string()))
                .collect();
            assert_eq!(got, want, "{min}..{max}");
            assert!(f.iter().all(Finding::is_error));
        }
        let mut n = ng();
        n.min_replicas = Known::Unknown;
        n.max_replicas = Known::Value(0);
        assert_eq!(
            only(check_nodegroup(&n, &offline())).path_string(),
            "max_replicas"
        );
        n.max_replicas = Known::Unknown;
        assert!(check_nodegroup(&n, &offline()).is_empty());
    }

    #[test]
    fn nodegroup_names() {
        let mut n = ng();
        n.cluster = v(&"c".repeat(43));
        n.name = v("_gpu");
        let f = check_nodegroup(&n, &offline());
        assert_well_formed(&f);
        assert_eq!(
            brief(&f),
            vec![
                (Severity::Error, "cluster".into(), "Invalid name".into()),
                (Severity::Error, "name".into(), "Invalid name".into()),
            ]
        );
        assert!(
            f[0].detail
                .contains("a Kubernetes name may have at most 42"),
            "{}",
            f[0].detail
        );
        assert!(
            f[1].detail
                .contains("starts with '_', which Cozystack reserves"),
            "{}",
            f[1].detail
        );
    }

    #[test]
    fn nodegroup_disk_size() {
        for (size, ok) in [
            ("100Gi", true),
            ("1Gi", true),
            ("64Ti", true),
            ("500Mi", false),
            ("100GiB", false),
            ("65Ti", false),
            ("0", false),
        ] {
            let mut n = ng();
            n.disk_size = v(size);
            let f = check_nodegroup(&n, &offline());
            assert_eq!(f.is_empty(), ok, "{size}: {f:#?}");
            if !ok {
                assert_eq!(only(f).path_string(), "disk_size");
            }
        }
    }

    #[test]
    fn nodegroup_resources() {
        let mut n = ng();
        n.resources = Known::Value(NodeGroupResources {
            cpu: v("16"),
            ..Default::default()
        });
        let f = only(check_nodegroup(&n, &offline()));
        assert_eq!(
            (f.severity, f.path_string()),
            (Severity::Error, "resources.memory".into())
        );
        n.resources = Known::Value(NodeGroupResources {
            memory: v("64Gi"),
            ..Default::default()
        });
        assert_eq!(
            only(check_nodegroup(&n, &offline())).path_string(),
            "resources.cpu"
        );
        // Both: they replace the instance type (warning), and size the node.
        n.resources = Known::Value(NodeGroupResources {
            cpu: v("16"),
            memory: v("2Gi"),
        });
        let f = check_nodegroup(&n, &offline());
        assert_eq!(
            brief(&f),
            vec![
                (
                    Severity::Warning,
                    "resources".into(),
                    "resources replace instance_type".into()
                ),
                (
                    Severity::Error,
                    "resources.memory".into(),
                    "Not enough memory for the NVIDIA driver".into()
                ),
            ]
        );
        n.instance_type = Known::Null;
        n.resources = Known::Value(NodeGroupResources {
            cpu: v("16"),
            memory: v("64Gi"),
        });
        assert!(check_nodegroup(&n, &offline()).is_empty());
        // Unknown memory: not an error.
        n.resources = Known::Value(NodeGroupResources {
            cpu: v("16"),
            memory: Known::Unknown,
        });
        assert!(check_nodegroup(&n, &offline()).is_empty());
    }

    #[test]
    fn nodegroup_gpu_rules() {
        let mut n = ng();
        n.instance_type = v("gn1.xlarge");
        let f = only(check_nodegroup(&n, &offline()));
        assert_eq!(
            (f.severity, f.path_string()),
            (Severity::Error, "gpus".into())
        );
        n.instance_type = v("u1.small");
        let f = only(check_nodegroup(&n, &offline()));
        assert_eq!(f.summary, "Not enough memory for the NVIDIA driver");
        n.instance_type = v("u1.xlarge");
        n.gpus = gpus(&["L4OS"]);
        assert_eq!(
            only(check_nodegroup(&n, &offline())).path_string(),
            "gpus[0].name"
        );
        n.gpus = gpus(&["nvidia.com/H200"]);
        assert_eq!(
            only(check_nodegroup(&n, &hikube())).summary,
            "GPU not offered by this cluster"
        );
        n.instance_type = v("u1.8xlarge");
        n.gpus = gpus(&["L40S"; 3]);
        let f = only(check_nodegroup(&n, &hikube()));
        assert!(
            f.detail
                .starts_with("Each node of this group asks for 3 x `L40S`"),
            "{}",
            f.detail
        );
        n.instance_type = v("u9.xlarge");
        n.gpus = gpus(&["L40S"]);
        assert_eq!(
            only(check_nodegroup(&n, &offline())).severity,
            Severity::Warning
        );
    }

    #[test]
    fn finding_display_and_path() {
        let f = Finding::error(gpu_path(2), "S", "Body.", "Fix: do it.");
        assert_eq!(f.path_string(), "gpus[2].name");
        assert_eq!(f.detail, "Body. Fix: do it.");
        assert_eq!(f.fix(), "do it.");
        assert_eq!(f.to_string(), "error at gpus[2].name: S: Body. Fix: do it.");
        assert_eq!(Known::from(Some(3)), Known::Value(3));
        assert_eq!(Known::<i32>::from(None), Known::Null);
    }
}
