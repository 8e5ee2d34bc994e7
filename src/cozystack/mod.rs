//! The Cozystack application API (`apps.cozystack.io/v1alpha1`) as it is
//! really served: discovery of the API generation, and object operations
//! that absorb its quirks (AlreadyExists and conflicts answered as HTTP 500,
//! a 404 just after create, asynchronous delete, transient 5xx).

pub mod client;
pub mod nodegroup;
pub mod nodegroup_writer;
pub mod vm;

pub use client::{ApiGeneration, CozyClient, CozyError, Discovery};

/// The API group and version of Cozystack applications.
pub const APPS_GROUP_VERSION: &str = "apps.cozystack.io/v1alpha1";
/// The group and version of Cozystack's option lists (v1.5+).
pub const CORE_GROUP_VERSION: &str = "core.cozystack.io/v1alpha1";
