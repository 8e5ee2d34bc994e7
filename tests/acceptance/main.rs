//! Acceptance tests: the real Terraform CLI, the real provider binary, a real
//! Kubernetes API server (the test bed, or a cluster named by
//! HIKUBE_ACC_KUBECONFIG).

mod harness;
mod provider_cli;

/// Resource types the provider registers (checked against the schema).
pub const REGISTERED_RESOURCES: &[&str] = &[];
/// Data sources the provider registers.
pub const REGISTERED_DATA_SOURCES: &[&str] = &[];
