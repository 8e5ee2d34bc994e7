//! terraform-provider-hikube: a Terraform and OpenTofu provider for GPU
//! virtual machines and GPU node groups on Hikube (Cozystack/KubeVirt).
//!
//! Layers, from the wire up:
//! - [`plugin`]: the Terraform plugin protocol v6 (handshake, mTLS, values,
//!   schemas, diagnostics). Knows nothing of Hikube.
//! - [`provider`]: the provider block and the Kubernetes client.
//! - [`cozystack`]: the Cozystack application API and its quirks.
//! - [`catalog`]: GPU models, instance types and sizing rules (pure).
//! - [`resources`]: one module per resource and data source.
#![forbid(unsafe_code)]

pub mod catalog;
pub mod cozystack;
pub mod plugin;
pub mod provider;
pub mod resources;
