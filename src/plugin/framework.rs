//! What a provider implements: a provider, resources and data sources,
//! in plain Rust types. `server.rs` adapts these to the wire protocol.

use std::sync::Arc;

use async_trait::async_trait;
use tokio_util::sync::CancellationToken;

use super::diag::{AttrPath, Diagnostics};
use super::schema::{IdentitySchema, Schema};
use super::value::Value;

/// Per-request context handed to every call.
#[derive(Debug, Clone)]
pub struct Ctx {
    /// Cancelled when Terraform calls StopProvider (Ctrl-C): long waits must
    /// return promptly and leave state that the next apply can converge from.
    pub cancel: CancellationToken,
    /// Terraform accepts deferred actions (protocol 6.6, `-allow-deferral`).
    pub deferral_allowed: bool,
    /// Terraform understands write-only attributes.
    pub write_only_allowed: bool,
}

impl Ctx {
    /// A context that is never cancelled (tests).
    pub fn background() -> Self {
        Self {
            cancel: CancellationToken::new(),
            deferral_allowed: false,
            write_only_allowed: false,
        }
    }
}

/// Why an action was deferred.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DeferredReason {
    /// The provider configuration holds unknown values.
    ProviderConfigUnknown,
    /// The resource configuration holds unknown values the provider needs.
    ResourceConfigUnknown,
    /// A dependency is deferred.
    AbsentPrereq,
}

/// A plan request, decoded.
#[derive(Debug, Clone)]
pub struct PlanRequest {
    /// State before (null on create).
    pub prior_state: Value,
    /// Terraform's proposed new state (null on destroy).
    pub proposed_new_state: Value,
    /// The configuration (null on destroy).
    pub config: Value,
    /// Identity in state, when any.
    pub prior_identity: Option<Value>,
}

/// A plan, being built.
#[derive(Debug, Clone, Default)]
pub struct Plan {
    /// The planned state.
    pub planned_state: Value,
    /// Attributes whose change replaces the resource.
    pub requires_replace: Vec<AttrPath>,
    /// Diagnostics.
    pub diagnostics: Diagnostics,
    /// Set to defer this change.
    pub deferred: Option<DeferredReason>,
    /// Planned identity.
    pub planned_identity: Option<Value>,
}

/// The result of create, update and read.
#[derive(Debug, Clone, Default)]
pub struct StateResult {
    /// The new state. On a failed create, a non-null state makes Terraform
    /// keep the object as tainted (nothing orphaned).
    pub state: Value,
    /// Diagnostics.
    pub diagnostics: Diagnostics,
    /// The identity matching the state.
    pub identity: Option<Value>,
}

impl StateResult {
    /// Only diagnostics, no state.
    pub fn failed(diagnostics: Diagnostics) -> Self {
        Self {
            state: Value::Null,
            diagnostics,
            identity: None,
        }
    }
}

/// A managed resource type.
#[async_trait]
pub trait Resource: Send + Sync {
    /// The type name, e.g. `hikube_gpu_vm`.
    fn type_name(&self) -> &'static str;

    /// The schema.
    fn schema(&self) -> Schema;

    /// The identity schema, if the resource supports identities.
    fn identity_schema(&self) -> Option<IdentitySchema> {
        None
    }

    /// Offline validation of a configuration (unknown values must be
    /// tolerated). Runs during `terraform validate`; no API access.
    fn validate(&self, _config: &Value) -> Diagnostics {
        Diagnostics::new()
    }

    /// Adjust a plan after the generic planner filled in defaults,
    /// unknown computed values and forced replacements. Cluster-aware
    /// checks go here. Not called for destroy.
    async fn modify_plan(&self, _ctx: &Ctx, _req: &PlanRequest, _plan: &mut Plan) {}

    /// Create from the planned state.
    async fn create(&self, ctx: &Ctx, planned: &Value, config: &Value) -> StateResult;

    /// Read the current state; `state: Value::Null` means the object is gone.
    async fn read(&self, ctx: &Ctx, state: &Value) -> StateResult;

    /// Update in place.
    async fn update(
        &self,
        ctx: &Ctx,
        prior: &Value,
        planned: &Value,
        config: &Value,
    ) -> StateResult;

    /// Delete; an object already gone is success.
    async fn delete(&self, ctx: &Ctx, prior: &Value) -> Diagnostics;

    /// Import: turn an ID (or an identity) into a state that `read` can
    /// complete.
    async fn import(&self, ctx: &Ctx, id: &str, identity: Option<&Value>) -> StateResult;
}

/// A data source.
#[async_trait]
pub trait DataSource: Send + Sync {
    /// The type name, e.g. `hikube_gpu_types`.
    fn type_name(&self) -> &'static str;

    /// The schema.
    fn schema(&self) -> Schema;

    /// Offline validation.
    fn validate(&self, _config: &Value) -> Diagnostics {
        Diagnostics::new()
    }

    /// Read.
    async fn read(&self, ctx: &Ctx, config: &Value) -> StateResult;
}

/// What the provider says about its configuration.
#[derive(Debug, Clone, Default)]
pub struct ConfigureOutcome {
    /// Diagnostics.
    pub diagnostics: Diagnostics,
    /// Set when the configuration is not known yet: later plans and reads
    /// are deferred when Terraform allows it, and fail clearly otherwise.
    pub deferred: Option<DeferredReason>,
}

/// A provider: its configuration schema and its resource types.
#[async_trait]
pub trait Provider: Send + Sync + 'static {
    /// The provider configuration schema.
    fn schema(&self) -> Schema;

    /// Resource types.
    fn resources(&self) -> Vec<Arc<dyn Resource>>;

    /// Data sources.
    fn data_sources(&self) -> Vec<Arc<dyn DataSource>>;

    /// Offline validation of the provider block.
    fn validate(&self, _config: &Value) -> Diagnostics {
        Diagnostics::new()
    }

    /// Configure (called once per Terraform operation).
    async fn configure(
        &self,
        ctx: &Ctx,
        config: &Value,
        terraform_version: &str,
    ) -> ConfigureOutcome;
}

impl Default for Value {
    /// Null: the state of an object that does not exist.
    fn default() -> Self {
        Value::Null
    }
}
