//! The resources and data sources of the provider, registered in one list.

pub mod common;
pub mod gpu_nodegroup;
pub mod gpu_types;
pub mod gpu_vm;
pub mod instance_types;

use std::sync::Arc;

use crate::plugin::framework::{DataSource, Resource};
use crate::provider::SharedSession;

/// All resource types.
pub fn all(session: &SharedSession) -> Vec<Arc<dyn Resource>> {
    vec![
        Arc::new(gpu_vm::GpuVm::new(session.clone())),
        Arc::new(gpu_nodegroup::GpuNodeGroup::new(session.clone())),
    ]
}

/// All data sources.
pub fn data_sources(session: &SharedSession) -> Vec<Arc<dyn DataSource>> {
    vec![
        gpu_types::GpuTypes::new(session),
        instance_types::InstanceTypes::new(session),
    ]
}
