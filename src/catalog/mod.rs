//! GPU and instance-type catalog, Kubernetes quantities, and plan-time rules.
//!
//! Everything here is pure: plain Rust inputs, no I/O, no dependency on the plugin layer. The
//! resources call [`rules::check_vm`] and [`rules::check_nodegroup`] twice: offline in
//! ValidateResourceConfig ([`rules::RuleContext::offline`]) and with what the cluster reports in
//! PlanResourceChange ([`rules::RuleContext::online`]). See `docs/guides/gpu-sizing.md`.

mod distance;
pub mod gpu;
pub mod instancetype;
pub mod names;
pub mod quantity;
pub mod rules;

pub use distance::edit_distance;
pub use gpu::{
    GPU_MODELS, GpuModel, GpuNameError, OfferedGpu, Resolution, ResolvedGpu,
    model_of_resource_name, resolve_gpu, same_gpu,
};
pub use instancetype::{InstanceCatalog, InstanceType};
pub use names::{AppKind, NameError, check_dns1035, check_name, max_name_len};
pub use quantity::{Quantity, QuantityError};
pub use rules::{
    Finding, Known, NodeGroupInput, NodeGroupResources, PathStep, RuleContext, Severity, VmInput,
    VmResources, check_nodegroup, check_vm,
};
