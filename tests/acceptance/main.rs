//! Acceptance tests: the real Terraform CLI, the real provider binary, a real
//! Kubernetes API server (the test bed, or a cluster named by
//! HIKUBE_ACC_KUBECONFIG).

mod data_sources;
mod gpu_vm;
mod harness;
mod nodegroup;
mod provider_cli;
mod validation_corpus;

/// Resource types the provider registers (checked against the schema).
pub const REGISTERED_RESOURCES: &[&str] = &["hikube_gpu_vm", "hikube_gpu_nodegroup"];
/// Data sources the provider registers.
pub const REGISTERED_DATA_SOURCES: &[&str] = &["hikube_gpu_types", "hikube_instance_types"];
