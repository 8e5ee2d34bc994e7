//! The `tfplugin6.Provider` gRPC service: a thin adapter that decodes wire
//! values with the schema's type, calls the [`Provider`], [`Resource`] and
//! [`DataSource`] implementations, and encodes their answers. Nothing here
//! knows about Hikube.

use std::collections::BTreeMap;
use std::pin::Pin;
use std::sync::{Arc, Mutex};

use futures::Stream;
use tokio_util::sync::CancellationToken;
use tonic::{Request, Response, Status, Streaming};
use tracing::Instrument;

use super::diag::{AttrPath, Diagnostic, Diagnostics, PathStep, Severity};
use super::framework::{Ctx, DataSource, DeferredReason, Plan, PlanRequest, Provider, Resource};
use super::pb::tfplugin6 as pb;
use super::plan;
use super::schema::{AttrKind, Attribute, Block, IdentitySchema, NestedBlock, Nesting, Schema};
use super::value::{self, Type, Value};

type Rpc<T> = Result<Response<T>, Status>;
type BoxStream<T> = Pin<Box<dyn Stream<Item = Result<T, Status>> + Send + 'static>>;

struct ResourceEntry {
    imp: Arc<dyn Resource>,
    schema: Schema,
    ty: Type,
    identity: Option<(IdentitySchema, Type)>,
}

struct DataSourceEntry {
    imp: Arc<dyn DataSource>,
    schema: Schema,
    ty: Type,
}

/// The gRPC service around a provider.
pub struct ProviderService {
    provider: Arc<dyn Provider>,
    provider_schema: Schema,
    resources: BTreeMap<String, ResourceEntry>,
    data_sources: BTreeMap<String, DataSourceEntry>,
    cancel: Mutex<CancellationToken>,
    configure_deferred: Mutex<Option<DeferredReason>>,
}

impl ProviderService {
    /// Wrap a provider; schemas are computed once here.
    pub fn new(provider: Arc<dyn Provider>) -> Self {
        let resources = provider
            .resources()
            .into_iter()
            .map(|r| {
                let schema = r.schema();
                let ty = schema.value_type();
                let identity = r.identity_schema().map(|s| {
                    let t = s.value_type();
                    (s, t)
                });
                (
                    r.type_name().to_string(),
                    ResourceEntry {
                        imp: r,
                        schema,
                        ty,
                        identity,
                    },
                )
            })
            .collect();
        let data_sources = provider
            .data_sources()
            .into_iter()
            .map(|d| {
                let schema = d.schema();
                let ty = schema.value_type();
                (
                    d.type_name().to_string(),
                    DataSourceEntry { imp: d, schema, ty },
                )
            })
            .collect();
        Self {
            provider_schema: provider.schema(),
            provider,
            resources,
            data_sources,
            cancel: Mutex::new(CancellationToken::new()),
            configure_deferred: Mutex::new(None),
        }
    }

    fn ctx(&self, caps: Option<&pb::ClientCapabilities>) -> Ctx {
        Ctx {
            cancel: self.cancel.lock().expect("cancel lock").clone(),
            deferral_allowed: caps.is_some_and(|c| c.deferral_allowed),
            write_only_allowed: caps.is_some_and(|c| c.write_only_attributes_allowed),
        }
    }

    fn resource(&self, type_name: &str) -> Result<&ResourceEntry, Status> {
        self.resources
            .get(type_name)
            .ok_or_else(|| Status::not_found(format!("unknown resource type {type_name:?}")))
    }

    fn data_source(&self, type_name: &str) -> Result<&DataSourceEntry, Status> {
        self.data_sources
            .get(type_name)
            .ok_or_else(|| Status::not_found(format!("unknown data source type {type_name:?}")))
    }

    fn deferred(&self) -> Option<DeferredReason> {
        *self.configure_deferred.lock().expect("deferred lock")
    }
}

// ---------------------------------------------------------------------------
// Conversions

fn decode(dv: Option<&pb::DynamicValue>, ty: &Type) -> Result<Value, Diagnostics> {
    let res = match dv {
        None => return Ok(Value::Null),
        Some(dv) if !dv.msgpack.is_empty() => value::decode_msgpack(&dv.msgpack, ty),
        Some(dv) if !dv.json.is_empty() => value::decode_json(&dv.json, ty),
        Some(_) => return Ok(Value::Null),
    };
    res.map_err(|e| {
        Diagnostic::error(
            "Provider could not decode a value from Terraform",
            format!("{e}. This is a bug in the provider; please report it."),
        )
        .into()
    })
}

fn encode(v: &Value, ty: &Type, diags: &mut Diagnostics) -> Option<pb::DynamicValue> {
    match value::encode_msgpack(v, ty) {
        Ok(msgpack) => Some(pb::DynamicValue {
            msgpack,
            json: Vec::new(),
        }),
        Err(e) => {
            diags.error(
                "Provider could not encode a value for Terraform",
                format!("{e}. This is a bug in the provider; please report it."),
            );
            None
        }
    }
}

fn identity_data(
    v: Option<&Value>,
    ty: Option<&Type>,
    diags: &mut Diagnostics,
) -> Option<pb::ResourceIdentityData> {
    match (v, ty) {
        (Some(v), Some(ty)) if !v.is_null() => {
            encode(v, ty, diags).map(|d| pb::ResourceIdentityData {
                identity_data: Some(d),
            })
        }
        _ => None,
    }
}

fn pb_path(p: &AttrPath) -> pb::AttributePath {
    use pb::attribute_path::step::Selector;
    pb::AttributePath {
        steps: p
            .0
            .iter()
            .map(|s| pb::attribute_path::Step {
                selector: Some(match s {
                    PathStep::Attr(a) => Selector::AttributeName(a.clone()),
                    PathStep::Index(i) => Selector::ElementKeyInt(*i),
                    PathStep::Key(k) => Selector::ElementKeyString(k.clone()),
                }),
            })
            .collect(),
    }
}

/// Diagnostics for an object of `block`'s schema. Terraform maps an
/// attribute path onto the configuration by walking blocks; it cannot walk
/// into an attribute's expression (`gpus = [{ name = ... }]`), and given
/// such a path it highlights an unrelated line. So the path sent stops at
/// the attribute (the exact path goes into the detail and the log).
fn pb_diags_in(d: &Diagnostics, block: &Block) -> Vec<pb::Diagnostic> {
    d.iter()
        .map(|d| {
            let shown = displayable(d, block);
            // The log keeps the exact path; the detail is what Terraform shows.
            log_diagnostic(&Diagnostic {
                detail: shown.detail.clone(),
                ..d.clone()
            });
            to_pb_diag(&shown)
        })
        .collect()
}

/// The diagnostic as Terraform can show it (see [`pb_diags_in`]).
pub fn displayable(d: &Diagnostic, block: &Block) -> Diagnostic {
    let Some(path) = &d.attribute else {
        return d.clone();
    };
    let shown = display_path(path, block);
    if shown.0.len() == path.0.len() {
        return d.clone();
    }
    let mut out = d.clone();
    out.detail = format!("At `{path}`: {}", d.detail);
    out.attribute = Some(shown);
    out
}

fn display_path(path: &AttrPath, block: &Block) -> AttrPath {
    let mut out = Vec::new();
    let mut current = block;
    let mut steps = path.0.iter().peekable();
    while let Some(step) = steps.next() {
        out.push(step.clone());
        let PathStep::Attr(name) = step else { break };
        if current.attribute(name).is_some() {
            break; // an attribute: Terraform can point at it, not inside it
        }
        match current.blocks.iter().find(|b| &b.type_name == name) {
            Some(b) => {
                // Blocks are walkable; keep an index or key step into them.
                if b.nesting != Nesting::Single
                    && let Some(next) = steps.peek()
                    && !matches!(next, PathStep::Attr(_))
                {
                    out.push(steps.next().expect("peeked").clone());
                }
                current = &b.block;
            }
            None => break,
        }
    }
    AttrPath(out)
}

fn pb_diags(d: &Diagnostics) -> Vec<pb::Diagnostic> {
    d.iter().for_each(log_diagnostic);
    d.iter().map(to_pb_diag).collect()
}

fn to_pb_diag(d: &Diagnostic) -> pb::Diagnostic {
    pb::Diagnostic {
        severity: match d.severity {
            Severity::Error => pb::diagnostic::Severity::Error as i32,
            Severity::Warning => pb::diagnostic::Severity::Warning as i32,
        },
        summary: d.summary.clone(),
        detail: d.detail.clone(),
        attribute: d.attribute.as_ref().map(pb_path),
    }
}

/// Log a diagnostic the way terraform-plugin-go does ("Response contains
/// error diagnostic", with `diagnostic_*` fields), so that `TF_LOG_PROVIDER`
/// shows the attribute path Terraform's own output cannot always point at
/// (nested attributes).
fn log_diagnostic(d: &Diagnostic) {
    let attribute = d
        .attribute
        .as_ref()
        .map(|a| a.to_string())
        .unwrap_or_default();
    match d.severity {
        Severity::Error => tracing::error!(
            diagnostic_severity = "ERROR",
            diagnostic_summary = %d.summary,
            diagnostic_detail = %d.detail,
            diagnostic_attribute = %attribute,
            "Response contains error diagnostic"
        ),
        Severity::Warning => tracing::warn!(
            diagnostic_severity = "WARNING",
            diagnostic_summary = %d.summary,
            diagnostic_detail = %d.detail,
            diagnostic_attribute = %attribute,
            "Response contains warning diagnostic"
        ),
    }
}

fn pb_deferred(r: Option<DeferredReason>) -> Option<pb::Deferred> {
    r.map(|r| pb::Deferred {
        reason: match r {
            DeferredReason::ProviderConfigUnknown => pb::deferred::Reason::ProviderConfigUnknown,
            DeferredReason::ResourceConfigUnknown => pb::deferred::Reason::ResourceConfigUnknown,
            DeferredReason::AbsentPrereq => pb::deferred::Reason::AbsentPrereq,
        } as i32,
    })
}

fn pb_attribute(a: &Attribute) -> pb::schema::Attribute {
    let (ty, nested) = match &a.kind {
        AttrKind::Plain(t) => (t.to_json_bytes(), None),
        AttrKind::Nested(nesting, attrs) => (
            Vec::new(),
            Some(pb::schema::Object {
                attributes: attrs.iter().map(pb_attribute).collect(),
                nesting: match nesting {
                    Nesting::Single => pb::schema::object::NestingMode::Single,
                    Nesting::List => pb::schema::object::NestingMode::List,
                    Nesting::Set => pb::schema::object::NestingMode::Set,
                    Nesting::Map => pb::schema::object::NestingMode::Map,
                } as i32,
                ..Default::default()
            }),
        ),
    };
    pb::schema::Attribute {
        name: a.name.clone(),
        r#type: ty,
        nested_type: nested,
        description: a.description.clone(),
        required: a.required,
        optional: a.optional,
        computed: a.computed,
        sensitive: a.sensitive,
        description_kind: pb::StringKind::Markdown as i32,
        deprecated: a.deprecated,
        write_only: a.write_only,
        deprecation_message: String::new(),
    }
}

fn pb_block(b: &Block, version: i64) -> pb::schema::Block {
    pb::schema::Block {
        version,
        attributes: b.attributes.iter().map(pb_attribute).collect(),
        block_types: b.blocks.iter().map(pb_nested_block).collect(),
        description: b.description.clone(),
        description_kind: pb::StringKind::Markdown as i32,
        deprecated: b.deprecated,
        deprecation_message: String::new(),
    }
}

fn pb_nested_block(b: &NestedBlock) -> pb::schema::NestedBlock {
    pb::schema::NestedBlock {
        type_name: b.type_name.clone(),
        block: Some(pb_block(&b.block, 0)),
        nesting: match b.nesting {
            Nesting::Single => pb::schema::nested_block::NestingMode::Single,
            Nesting::List => pb::schema::nested_block::NestingMode::List,
            Nesting::Set => pb::schema::nested_block::NestingMode::Set,
            Nesting::Map => pb::schema::nested_block::NestingMode::Map,
        } as i32,
        min_items: b.min_items,
        max_items: b.max_items,
    }
}

fn pb_schema(s: &Schema) -> pb::Schema {
    pb::Schema {
        version: s.version,
        block: Some(pb_block(&s.block, s.version)),
    }
}

/// Configuration errors for write-only attributes when Terraform cannot
/// handle them.
fn check_write_only(block: &Block, config: &Value, ctx: &Ctx, diags: &mut Diagnostics) {
    if ctx.write_only_allowed {
        return;
    }
    for a in &block.attributes {
        if a.write_only && !config.get(&a.name).is_null() {
            diags.error_at(
                AttrPath::root(&a.name),
                "Write-only attribute not supported by this Terraform",
                format!(
                    "`{}` is write-only, which needs Terraform 1.11 or later. Upgrade Terraform, or use the stored variant of this attribute instead.",
                    a.name
                ),
            );
        }
    }
}

fn unimplemented(rpc: &str) -> Status {
    Status::unimplemented(format!("{rpc} is not served by terraform-provider-hikube"))
}

// ---------------------------------------------------------------------------
// The service

#[tonic::async_trait]
impl pb::provider_server::Provider for ProviderService {
    async fn get_metadata(
        &self,
        _r: Request<pb::get_metadata::Request>,
    ) -> Rpc<pb::get_metadata::Response> {
        Ok(Response::new(pb::get_metadata::Response {
            server_capabilities: Some(server_capabilities()),
            resources: self
                .resources
                .keys()
                .map(|t| pb::get_metadata::ResourceMetadata {
                    type_name: t.clone(),
                })
                .collect(),
            data_sources: self
                .data_sources
                .keys()
                .map(|t| pb::get_metadata::DataSourceMetadata {
                    type_name: t.clone(),
                })
                .collect(),
            ..Default::default()
        }))
    }

    async fn get_provider_schema(
        &self,
        _r: Request<pb::get_provider_schema::Request>,
    ) -> Rpc<pb::get_provider_schema::Response> {
        tracing::debug!(tf_rpc = "GetProviderSchema", "serving schema");
        Ok(Response::new(pb::get_provider_schema::Response {
            provider: Some(pb_schema(&self.provider_schema)),
            resource_schemas: self
                .resources
                .iter()
                .map(|(k, e)| (k.clone(), pb_schema(&e.schema)))
                .collect(),
            data_source_schemas: self
                .data_sources
                .iter()
                .map(|(k, e)| (k.clone(), pb_schema(&e.schema)))
                .collect(),
            server_capabilities: Some(server_capabilities()),
            ..Default::default()
        }))
    }

    async fn validate_provider_config(
        &self,
        r: Request<pb::validate_provider_config::Request>,
    ) -> Rpc<pb::validate_provider_config::Response> {
        let r = r.into_inner();
        let diags = match decode(r.config.as_ref(), &self.provider_schema.value_type()) {
            Ok(config) => self.provider.validate(&config),
            Err(d) => d,
        };
        Ok(Response::new(pb::validate_provider_config::Response {
            diagnostics: pb_diags_in(&diags, &self.provider_schema.block),
        }))
    }

    async fn validate_resource_config(
        &self,
        r: Request<pb::validate_resource_config::Request>,
    ) -> Rpc<pb::validate_resource_config::Response> {
        let r = r.into_inner();
        let e = self.resource(&r.type_name)?;
        let ctx = self.ctx(r.client_capabilities.as_ref());
        let diags = match decode(r.config.as_ref(), &e.ty) {
            Ok(config) => {
                let mut d = Diagnostics::new();
                check_write_only(&e.schema.block, &config, &ctx, &mut d);
                d.extend(e.imp.validate(&config));
                d
            }
            Err(d) => d,
        };
        tracing::debug!(tf_rpc = "ValidateResourceConfig", tf_resource_type = %r.type_name, diagnostics = diags.0.len(), "validated");
        Ok(Response::new(pb::validate_resource_config::Response {
            diagnostics: pb_diags_in(&diags, &e.schema.block),
        }))
    }

    async fn validate_data_resource_config(
        &self,
        r: Request<pb::validate_data_resource_config::Request>,
    ) -> Rpc<pb::validate_data_resource_config::Response> {
        let r = r.into_inner();
        let e = self.data_source(&r.type_name)?;
        let diags = match decode(r.config.as_ref(), &e.ty) {
            Ok(config) => e.imp.validate(&config),
            Err(d) => d,
        };
        Ok(Response::new(pb::validate_data_resource_config::Response {
            diagnostics: pb_diags_in(&diags, &e.schema.block),
        }))
    }

    async fn upgrade_resource_state(
        &self,
        r: Request<pb::upgrade_resource_state::Request>,
    ) -> Rpc<pb::upgrade_resource_state::Response> {
        let r = r.into_inner();
        let e = self.resource(&r.type_name)?;
        let mut diags = Diagnostics::new();
        let raw = r.raw_state.unwrap_or_default();
        let upgraded = if r.version > e.schema.version {
            diags.error(
                "State written by a newer provider",
                format!(
                    "The state of this {} has schema version {}, but this provider only knows up to version {}. Use the provider version that wrote it, or a newer one.",
                    r.type_name, r.version, e.schema.version
                ),
            );
            None
        } else if !raw.json.is_empty() {
            match value::upgrade_json_state(&raw.json, &e.ty) {
                Ok(v) => encode(&v, &e.ty, &mut diags),
                Err(err) => {
                    diags.error("Could not read the stored state", err.to_string());
                    None
                }
            }
        } else if !raw.flatmap.is_empty() {
            diags.error(
                "Legacy flatmap state is not supported",
                "This state predates Terraform 0.12. Remove the resource from state and import it again.",
            );
            None
        } else {
            encode(&Value::Null, &e.ty, &mut diags)
        };
        Ok(Response::new(pb::upgrade_resource_state::Response {
            upgraded_state: upgraded,
            diagnostics: pb_diags_in(&diags, &e.schema.block),
        }))
    }

    async fn get_resource_identity_schemas(
        &self,
        _r: Request<pb::get_resource_identity_schemas::Request>,
    ) -> Rpc<pb::get_resource_identity_schemas::Response> {
        let identity_schemas = self
            .resources
            .iter()
            .filter_map(|(k, e)| {
                e.identity.as_ref().map(|(s, _)| {
                    (
                        k.clone(),
                        pb::ResourceIdentitySchema {
                            version: s.version,
                            identity_attributes: s
                                .attributes
                                .iter()
                                .map(|a| pb::resource_identity_schema::IdentityAttribute {
                                    name: a.name.clone(),
                                    r#type: a.ty.to_json_bytes(),
                                    required_for_import: a.required_for_import,
                                    optional_for_import: a.optional_for_import,
                                    description: a.description.clone(),
                                })
                                .collect(),
                        },
                    )
                })
            })
            .collect();
        Ok(Response::new(pb::get_resource_identity_schemas::Response {
            identity_schemas,
            diagnostics: vec![],
        }))
    }

    async fn upgrade_resource_identity(
        &self,
        r: Request<pb::upgrade_resource_identity::Request>,
    ) -> Rpc<pb::upgrade_resource_identity::Response> {
        let r = r.into_inner();
        let e = self.resource(&r.type_name)?;
        let mut diags = Diagnostics::new();
        let Some((schema, ty)) = &e.identity else {
            return Err(Status::failed_precondition(format!(
                "{} has no identity",
                r.type_name
            )));
        };
        let raw = r.raw_identity.unwrap_or_default();
        let upgraded = if r.version > schema.version {
            diags.error(
                "Identity written by a newer provider",
                format!(
                    "identity version {} is newer than {}",
                    r.version, schema.version
                ),
            );
            None
        } else {
            match value::upgrade_json_state(&raw.json, ty) {
                Ok(v) => identity_data(Some(&v), Some(ty), &mut diags),
                Err(err) => {
                    diags.error("Could not read the stored identity", err.to_string());
                    None
                }
            }
        };
        Ok(Response::new(pb::upgrade_resource_identity::Response {
            upgraded_identity: upgraded,
            diagnostics: pb_diags_in(&diags, &e.schema.block),
        }))
    }

    async fn configure_provider(
        &self,
        r: Request<pb::configure_provider::Request>,
    ) -> Rpc<pb::configure_provider::Response> {
        let r = r.into_inner();
        let ctx = self.ctx(r.client_capabilities.as_ref());
        let diags = match decode(r.config.as_ref(), &self.provider_schema.value_type()) {
            Ok(config) => {
                let out = self
                    .provider
                    .configure(&ctx, &config, &r.terraform_version)
                    .instrument(tracing::debug_span!(
                        "configure",
                        tf_rpc = "ConfigureProvider"
                    ))
                    .await;
                *self.configure_deferred.lock().expect("deferred lock") = out.deferred;
                out.diagnostics
            }
            Err(d) => d,
        };
        Ok(Response::new(pb::configure_provider::Response {
            diagnostics: pb_diags_in(&diags, &self.provider_schema.block),
        }))
    }

    async fn read_resource(
        &self,
        r: Request<pb::read_resource::Request>,
    ) -> Rpc<pb::read_resource::Response> {
        let r = r.into_inner();
        let e = self.resource(&r.type_name)?;
        let ctx = self.ctx(r.client_capabilities.as_ref());
        let id_ty = e.identity.as_ref().map(|(_, t)| t);
        let state = match decode(r.current_state.as_ref(), &e.ty) {
            Ok(s) => s,
            Err(d) => return Ok(Response::new(read_failed(d))),
        };
        let mut diags = Diagnostics::new();
        if let Some(reason) = self.deferred() {
            if ctx.deferral_allowed {
                return Ok(Response::new(pb::read_resource::Response {
                    new_state: encode(&state, &e.ty, &mut diags),
                    diagnostics: pb_diags_in(&diags, &e.schema.block),
                    private: r.private,
                    deferred: pb_deferred(Some(reason)),
                    new_identity: r.current_identity,
                }));
            }
            diags.push(unknown_config_error());
            return Ok(Response::new(read_failed(diags)));
        }
        let out = e
            .imp
            .read(&ctx, &state)
            .instrument(tracing::debug_span!("read", tf_rpc = "ReadResource", tf_resource_type = %r.type_name))
            .await;
        diags.extend(out.diagnostics);
        let new_state = encode(&out.state, &e.ty, &mut diags);
        let new_identity = identity_data(out.identity.as_ref(), id_ty, &mut diags);
        Ok(Response::new(pb::read_resource::Response {
            new_state,
            diagnostics: pb_diags_in(&diags, &e.schema.block),
            private: r.private,
            deferred: None,
            new_identity,
        }))
    }

    async fn plan_resource_change(
        &self,
        r: Request<pb::plan_resource_change::Request>,
    ) -> Rpc<pb::plan_resource_change::Response> {
        let r = r.into_inner();
        let e = self.resource(&r.type_name)?;
        let ctx = self.ctx(r.client_capabilities.as_ref());
        let id_ty = e.identity.as_ref().map(|(_, t)| t);
        let decoded = (|| {
            Ok::<_, Diagnostics>(PlanRequest {
                prior_state: decode(r.prior_state.as_ref(), &e.ty)?,
                proposed_new_state: decode(r.proposed_new_state.as_ref(), &e.ty)?,
                config: decode(r.config.as_ref(), &e.ty)?,
                prior_identity: match (
                    r.prior_identity
                        .as_ref()
                        .and_then(|i| i.identity_data.as_ref()),
                    id_ty,
                ) {
                    (Some(d), Some(t)) => Some(decode(Some(d), t)?),
                    _ => None,
                },
            })
        })();
        let req = match decoded {
            Ok(req) => req,
            Err(d) => {
                return Ok(Response::new(pb::plan_resource_change::Response {
                    diagnostics: pb_diags_in(&d, &e.schema.block),
                    ..Default::default()
                }));
            }
        };
        let mut plan: Plan = plan::plan(&e.schema, &req);
        plan.planned_identity = req.prior_identity.clone();
        if !req.proposed_new_state.is_null() {
            match self.deferred() {
                Some(reason) if ctx.deferral_allowed => plan.deferred = Some(reason),
                Some(_) => plan.diagnostics.push(unknown_config_error()),
                None => {
                    e.imp
                        .modify_plan(&ctx, &req, &mut plan)
                        .instrument(tracing::debug_span!("plan", tf_rpc = "PlanResourceChange", tf_resource_type = %r.type_name))
                        .await
                }
            }
        }
        let mut diags = plan.diagnostics;
        let planned_state = encode(&plan.planned_state, &e.ty, &mut diags);
        let planned_identity = identity_data(plan.planned_identity.as_ref(), id_ty, &mut diags);
        Ok(Response::new(pb::plan_resource_change::Response {
            planned_state,
            requires_replace: plan.requires_replace.iter().map(pb_path).collect(),
            planned_private: r.prior_private,
            diagnostics: pb_diags_in(&diags, &e.schema.block),
            legacy_type_system: false,
            deferred: pb_deferred(plan.deferred),
            planned_identity,
        }))
    }

    async fn apply_resource_change(
        &self,
        r: Request<pb::apply_resource_change::Request>,
    ) -> Rpc<pb::apply_resource_change::Response> {
        let r = r.into_inner();
        let e = self.resource(&r.type_name)?;
        let ctx = self.ctx(None);
        let id_ty = e.identity.as_ref().map(|(_, t)| t);
        let decoded = (|| {
            Ok::<_, Diagnostics>((
                decode(r.prior_state.as_ref(), &e.ty)?,
                decode(r.planned_state.as_ref(), &e.ty)?,
                decode(r.config.as_ref(), &e.ty)?,
            ))
        })();
        let (prior, planned, config) = match decoded {
            Ok(v) => v,
            Err(d) => {
                return Ok(Response::new(pb::apply_resource_change::Response {
                    diagnostics: pb_diags_in(&d, &e.schema.block),
                    ..Default::default()
                }));
            }
        };
        let span = tracing::info_span!("apply", tf_rpc = "ApplyResourceChange", tf_resource_type = %r.type_name);
        let out = async {
            if prior.is_null() {
                e.imp.create(&ctx, &planned, &config).await
            } else if planned.is_null() {
                let diags = e.imp.delete(&ctx, &prior).await;
                let state = if diags.has_errors() {
                    prior.clone()
                } else {
                    Value::Null
                };
                super::framework::StateResult {
                    state,
                    diagnostics: diags,
                    identity: None,
                }
            } else {
                e.imp.update(&ctx, &prior, &planned, &config).await
            }
        }
        .instrument(span)
        .await;
        let mut diags = out.diagnostics;
        let new_state = encode(&out.state, &e.ty, &mut diags);
        let new_identity = identity_data(out.identity.as_ref(), id_ty, &mut diags);
        Ok(Response::new(pb::apply_resource_change::Response {
            new_state,
            private: r.planned_private,
            diagnostics: pb_diags_in(&diags, &e.schema.block),
            legacy_type_system: false,
            new_identity,
        }))
    }

    async fn import_resource_state(
        &self,
        r: Request<pb::import_resource_state::Request>,
    ) -> Rpc<pb::import_resource_state::Response> {
        let r = r.into_inner();
        let e = self.resource(&r.type_name)?;
        let ctx = self.ctx(r.client_capabilities.as_ref());
        let id_ty = e.identity.as_ref().map(|(_, t)| t);
        let mut diags = Diagnostics::new();
        let identity = match (
            r.identity.as_ref().and_then(|i| i.identity_data.as_ref()),
            id_ty,
        ) {
            (Some(d), Some(t)) => match decode(Some(d), t) {
                Ok(v) => Some(v),
                Err(d) => {
                    return Ok(Response::new(pb::import_resource_state::Response {
                        diagnostics: pb_diags_in(&d, &e.schema.block),
                        ..Default::default()
                    }));
                }
            },
            _ => None,
        };
        let out = e
            .imp
            .import(&ctx, &r.id, identity.as_ref())
            .instrument(tracing::info_span!("import", tf_rpc = "ImportResourceState", tf_resource_type = %r.type_name))
            .await;
        diags.extend(out.diagnostics);
        let mut imported = Vec::new();
        if !diags.has_errors() {
            let state = encode(&out.state, &e.ty, &mut diags);
            let identity = identity_data(out.identity.as_ref(), id_ty, &mut diags);
            imported.push(pb::import_resource_state::ImportedResource {
                type_name: r.type_name.clone(),
                state,
                private: Vec::new(),
                identity,
            });
        }
        Ok(Response::new(pb::import_resource_state::Response {
            imported_resources: imported,
            diagnostics: pb_diags_in(&diags, &e.schema.block),
            deferred: None,
        }))
    }

    async fn move_resource_state(
        &self,
        _r: Request<pb::move_resource_state::Request>,
    ) -> Rpc<pb::move_resource_state::Response> {
        Err(unimplemented("MoveResourceState"))
    }

    async fn read_data_source(
        &self,
        r: Request<pb::read_data_source::Request>,
    ) -> Rpc<pb::read_data_source::Response> {
        let r = r.into_inner();
        let e = self.data_source(&r.type_name)?;
        let ctx = self.ctx(r.client_capabilities.as_ref());
        let mut diags = Diagnostics::new();
        let config = match decode(r.config.as_ref(), &e.ty) {
            Ok(c) => c,
            Err(d) => {
                return Ok(Response::new(pb::read_data_source::Response {
                    diagnostics: pb_diags_in(&d, &e.schema.block),
                    ..Default::default()
                }));
            }
        };
        if let Some(reason) = self.deferred() {
            if ctx.deferral_allowed {
                return Ok(Response::new(pb::read_data_source::Response {
                    state: encode(&config, &e.ty, &mut diags),
                    diagnostics: pb_diags_in(&diags, &e.schema.block),
                    deferred: pb_deferred(Some(reason)),
                }));
            }
            diags.push(unknown_config_error());
            return Ok(Response::new(pb::read_data_source::Response {
                diagnostics: pb_diags_in(&diags, &e.schema.block),
                ..Default::default()
            }));
        }
        let out = e
            .imp
            .read(&ctx, &config)
            .instrument(tracing::debug_span!("read_data", tf_rpc = "ReadDataSource", tf_data_source_type = %r.type_name))
            .await;
        diags.extend(out.diagnostics);
        let state = if diags.has_errors() {
            None
        } else {
            encode(&out.state, &e.ty, &mut diags)
        };
        Ok(Response::new(pb::read_data_source::Response {
            state,
            diagnostics: pb_diags_in(&diags, &e.schema.block),
            deferred: None,
        }))
    }

    async fn generate_resource_config(
        &self,
        _r: Request<pb::generate_resource_config::Request>,
    ) -> Rpc<pb::generate_resource_config::Response> {
        Err(unimplemented("GenerateResourceConfig"))
    }

    async fn validate_ephemeral_resource_config(
        &self,
        _r: Request<pb::validate_ephemeral_resource_config::Request>,
    ) -> Rpc<pb::validate_ephemeral_resource_config::Response> {
        Err(unimplemented("ValidateEphemeralResourceConfig"))
    }

    async fn open_ephemeral_resource(
        &self,
        _r: Request<pb::open_ephemeral_resource::Request>,
    ) -> Rpc<pb::open_ephemeral_resource::Response> {
        Err(unimplemented("OpenEphemeralResource"))
    }

    async fn renew_ephemeral_resource(
        &self,
        _r: Request<pb::renew_ephemeral_resource::Request>,
    ) -> Rpc<pb::renew_ephemeral_resource::Response> {
        Err(unimplemented("RenewEphemeralResource"))
    }

    async fn close_ephemeral_resource(
        &self,
        _r: Request<pb::close_ephemeral_resource::Request>,
    ) -> Rpc<pb::close_ephemeral_resource::Response> {
        Err(unimplemented("CloseEphemeralResource"))
    }

    type ListResourceStream = BoxStream<pb::list_resource::Event>;

    async fn list_resource(
        &self,
        _r: Request<pb::list_resource::Request>,
    ) -> Rpc<Self::ListResourceStream> {
        Err(unimplemented("ListResource"))
    }

    async fn validate_list_resource_config(
        &self,
        _r: Request<pb::validate_list_resource_config::Request>,
    ) -> Rpc<pb::validate_list_resource_config::Response> {
        Err(unimplemented("ValidateListResourceConfig"))
    }

    async fn get_functions(
        &self,
        _r: Request<pb::get_functions::Request>,
    ) -> Rpc<pb::get_functions::Response> {
        // OpenTofu calls this unconditionally and does not accept an error.
        Ok(Response::new(pb::get_functions::Response::default()))
    }

    async fn call_function(
        &self,
        _r: Request<pb::call_function::Request>,
    ) -> Rpc<pb::call_function::Response> {
        Err(unimplemented("CallFunction"))
    }

    async fn validate_state_store_config(
        &self,
        _r: Request<pb::validate_state_store::Request>,
    ) -> Rpc<pb::validate_state_store::Response> {
        Err(unimplemented("ValidateStateStoreConfig"))
    }

    async fn configure_state_store(
        &self,
        _r: Request<pb::configure_state_store::Request>,
    ) -> Rpc<pb::configure_state_store::Response> {
        Err(unimplemented("ConfigureStateStore"))
    }

    type ReadStateBytesStream = BoxStream<pb::read_state_bytes::Response>;

    async fn read_state_bytes(
        &self,
        _r: Request<pb::read_state_bytes::Request>,
    ) -> Rpc<Self::ReadStateBytesStream> {
        Err(unimplemented("ReadStateBytes"))
    }

    async fn write_state_bytes(
        &self,
        _r: Request<Streaming<pb::write_state_bytes::RequestChunk>>,
    ) -> Rpc<pb::write_state_bytes::Response> {
        Err(unimplemented("WriteStateBytes"))
    }

    async fn lock_state(
        &self,
        _r: Request<pb::lock_state::Request>,
    ) -> Rpc<pb::lock_state::Response> {
        Err(unimplemented("LockState"))
    }

    async fn unlock_state(
        &self,
        _r: Request<pb::unlock_state::Request>,
    ) -> Rpc<pb::unlock_state::Response> {
        Err(unimplemented("UnlockState"))
    }

    async fn get_states(
        &self,
        _r: Request<pb::get_states::Request>,
    ) -> Rpc<pb::get_states::Response> {
        Err(unimplemented("GetStates"))
    }

    async fn delete_state(
        &self,
        _r: Request<pb::delete_state::Request>,
    ) -> Rpc<pb::delete_state::Response> {
        Err(unimplemented("DeleteState"))
    }

    async fn plan_action(
        &self,
        _r: Request<pb::plan_action::Request>,
    ) -> Rpc<pb::plan_action::Response> {
        Err(unimplemented("PlanAction"))
    }

    type InvokeActionStream = BoxStream<pb::invoke_action::Event>;

    async fn invoke_action(
        &self,
        _r: Request<pb::invoke_action::Request>,
    ) -> Rpc<Self::InvokeActionStream> {
        Err(unimplemented("InvokeAction"))
    }

    async fn validate_action_config(
        &self,
        _r: Request<pb::validate_action_config::Request>,
    ) -> Rpc<pb::validate_action_config::Response> {
        Err(unimplemented("ValidateActionConfig"))
    }

    async fn stop_provider(
        &self,
        _r: Request<pb::stop_provider::Request>,
    ) -> Rpc<pb::stop_provider::Response> {
        tracing::info!(
            tf_rpc = "StopProvider",
            "stop requested: cancelling in-flight operations"
        );
        let mut guard = self.cancel.lock().expect("cancel lock");
        guard.cancel();
        *guard = CancellationToken::new();
        Ok(Response::new(pb::stop_provider::Response {
            error: String::new(),
        }))
    }
}

fn server_capabilities() -> pb::ServerCapabilities {
    pb::ServerCapabilities {
        plan_destroy: true,
        get_provider_schema_optional: false,
        move_resource_state: false,
        generate_resource_config: false,
    }
}

fn unknown_config_error() -> Diagnostic {
    Diagnostic::error(
        "Provider configuration is not known yet",
        "The hikube provider block uses values that are only known after apply (for example a kubeconfig produced by another resource). \
         Apply that resource first with `terraform apply -target=...`, or run with `-allow-deferral` on a Terraform that supports deferred actions.",
    )
}

fn read_failed(d: Diagnostics) -> pb::read_resource::Response {
    pb::read_resource::Response {
        diagnostics: pb_diags(&d),
        ..Default::default()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::plugin::schema::{Attribute, NestedBlock, timeouts_block};

    fn block() -> Block {
        Block::new("t")
            .attr(Attribute::string("name").required())
            .attr(
                Attribute::nested(
                    "gpus",
                    Nesting::List,
                    vec![Attribute::string("name").required()],
                )
                .optional(),
            )
            .block(timeouts_block(&[("create", "1m")]))
            .block(NestedBlock::single(
                "exec",
                Block::new("e").attr(Attribute::string("command").required()),
            ))
    }

    #[test]
    fn paths_stop_at_the_attribute_terraform_can_point_at() {
        let b = block();
        let d = Diagnostic::error("Unknown GPU type", "bad")
            .at(AttrPath::root("gpus").index(1).attr("name"));
        let shown = displayable(&d, &b);
        assert_eq!(shown.attribute, Some(AttrPath::root("gpus")));
        assert_eq!(shown.detail, "At `gpus[1].name`: bad");
        for p in [
            AttrPath::root("name"),
            AttrPath::root("timeouts").attr("create"),
            AttrPath::root("exec").attr("command"),
        ] {
            let d = Diagnostic::error("x", "y").at(p.clone());
            assert_eq!(displayable(&d, &b), d, "{p}");
        }
    }
}
