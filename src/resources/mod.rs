//! The resources and data sources of the provider, registered in one list.

pub mod common;

use std::sync::Arc;

use crate::plugin::framework::{DataSource, Resource};
use crate::provider::SharedSession;

/// All resource types.
pub fn all(_session: &SharedSession) -> Vec<Arc<dyn Resource>> {
    vec![]
}

/// All data sources.
pub fn data_sources(_session: &SharedSession) -> Vec<Arc<dyn DataSource>> {
    vec![]
}
