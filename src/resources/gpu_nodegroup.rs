//! `hikube_gpu_nodegroup`: one GPU worker pool of a Hikube managed
//! Kubernetes cluster, declared apart from the cluster.
//!
//! The resource owns exactly one key of the parent `Kubernetes` app's
//! `spec.nodeGroups` map and nothing else. It writes that key with a JSON
//! merge patch (`null` to delete), serialized with the other node groups of
//! the same cluster and verified by reading back
//! (`cozystack::nodegroup_writer`). Reading drops the resource from state
//! when the key or the cluster is gone. Import takes
//! `<namespace>/<cluster>/<name>`.

use std::collections::BTreeMap;
use std::time::Duration;

use async_trait::async_trait;
use serde_json::Value as Json;

use super::common::{self, ClusterOffers, Timeouts, WaitOutcome};
use crate::catalog::{self, Known, NodeGroupInput, NodeGroupResources, RuleContext};
use crate::cozystack::nodegroup::{
    self, DEFAULT_NODE_GROUP, NodeGroupSpec, NodeResources, defaults, same_quantity,
};
use crate::cozystack::nodegroup_writer::{self, Change, Target, WriteError};
use crate::cozystack::{CozyClient, CozyError};
use crate::plugin::diag::{AttrPath, Diagnostic, Diagnostics};
use crate::plugin::framework::{Ctx, Plan, PlanRequest, Resource, StateResult};
use crate::plugin::schema::{
    Attribute, Block, IdentityAttribute, IdentitySchema, Nesting, Schema, timeouts_block,
};
use crate::plugin::value::{Type, Value};
use crate::provider::{Session, SharedSession};

/// The resource type name.
pub const TYPE_NAME: &str = "hikube_gpu_nodegroup";

const DEFAULT_TIMEOUTS: Timeouts = Timeouts {
    create: Duration::from_secs(30 * 60),
    update: Duration::from_secs(30 * 60),
    delete: Duration::from_secs(20 * 60),
};

/// `hikube_gpu_nodegroup`.
pub struct GpuNodeGroup {
    session: SharedSession,
}

impl GpuNodeGroup {
    /// The resource, bound to the provider's session.
    pub fn new(session: SharedSession) -> Self {
        Self { session }
    }

    /// What a namespace offers (GPUs, instance types); the client reads it
    /// once per provider process.
    async fn offers(&self, client: &CozyClient, namespace: &str) -> ClusterOffers {
        common::cluster_offers(client, namespace).await
    }
}

// ---------------------------------------------------------------------------
// Schema

fn schema() -> Schema {
    let block = Block::new(
        "A GPU worker pool (one entry of `spec.nodeGroups`) of a Hikube managed Kubernetes cluster. \
         The resource owns exactly this entry and never touches the others nor the rest of the \
         cluster's spec, so pools can be added, resized and removed without touching the cluster \
         definition. Writes to one cluster are serialized and verified by reading back, so any \
         number of pools can be applied in parallel.",
    )
    .attr(Attribute::string("id").computed().use_state_for_unknown().description("`<namespace>/<cluster>/<name>`."))
    .attr(Attribute::string("cluster").required().requires_replace().description(
        "Name of the parent `Kubernetes` app (the managed cluster). Changing it replaces the node group.",
    ))
    .attr(Attribute::string("namespace").optional().computed().requires_replace().use_state_for_unknown().description(
        "Tenant namespace of the cluster, e.g. `tenant-root`. Default: the provider's `namespace`. \
         Changing it replaces the node group.",
    ))
    .attr(Attribute::string("name").required().requires_replace().description(
        "Name of the node group: its key in `spec.nodeGroups` (a DNS-1035 label). `md0` is reserved for \
         the chart's default group. Changing it replaces the node group.",
    ))
    .attr(Attribute::number("min_replicas").default(Value::number_i64(defaults::MIN_REPLICAS)).description(
        "Fewest nodes the cluster autoscaler keeps. Default `0`.",
    ))
    .attr(Attribute::number("max_replicas").default(Value::number_i64(defaults::MAX_REPLICAS)).description(
        "Most nodes the cluster autoscaler creates; at least `min_replicas`. Default `10`.",
    ))
    .attr(Attribute::string("instance_type").default(Value::string(defaults::INSTANCE_TYPE)).description(
        "KubeVirt instance type of each node, e.g. `u1.4xlarge` (16 vCPU, 64Gi). Ignored by the \
         chart when `resources` sets both `cpu` and `memory`. Default `u1.medium`.",
    ))
    .attr(Attribute::string("disk_size").default(Value::string(defaults::DISK_SIZE)).description(
        "Root disk of each node, a Kubernetes quantity such as `100Gi`. Sent as `ephemeralStorage` \
         (Cozystack up to v1.3) or `diskSize` (v1.4 and later), whichever the cluster uses; \
         compared by value (`100Gi` equals `107374182400`). Default `20Gi`.",
    ))
    .attr(Attribute::typed("roles", Type::list(Type::String)).default(Value::List(vec![])).description(
        "Node roles, e.g. `[\"ingress-nginx\"]`. Default none.",
    ))
    .attr(
        Attribute::nested(
            "resources",
            Nesting::Single,
            vec![
                Attribute::string("cpu").optional().description("vCPUs of each node, e.g. `\"16\"`."),
                Attribute::string("memory").optional().description("Memory of each node, e.g. `\"64Gi\"`."),
            ],
        )
        .optional()
        .description(
            "Custom node sizing instead of `instance_type`. Set both `cpu` and `memory` (one alone \
             makes the cluster fail to render).",
        ),
    )
    .attr(
        Attribute::nested(
            "gpus",
            Nesting::List,
            vec![Attribute::string("name").required().description(
                "GPU model or resource name: `L40S`, `A100`, `H100`, the seed spelling \
                 `nvidia.com/L40S`, or the full name the cluster advertises such as \
                 `nvidia.com/AD102GL_L40S`. The provider sends the name the cluster advertises and \
                 keeps your spelling in state.",
            )],
        )
        .default(Value::List(vec![]))
        .description("GPUs passed through to each node, one entry per GPU. Default none."),
    )
    .attr(Attribute::bool("wait_for_ready").default(Value::Bool(true)).description(
        "Wait for the parent cluster to report Ready again after each change (bounded by \
         `timeouts`). Default `true`.",
    ))
    .attr(Attribute::bool("ready").computed().description(
        "Whether the parent cluster reported `Ready=True` when last read.",
    ))
    .attr(Attribute::string("status_message").computed().description(
        "The message of the parent cluster's `Ready` condition when last read.",
    ))
    .block(timeouts_block(&[("create", "30m"), ("update", "30m"), ("delete", "20m")]));
    Schema::new(block)
}

fn identity_schema() -> IdentitySchema {
    let attr = |name: &str, description: &str| IdentityAttribute {
        name: name.into(),
        ty: Type::String,
        required_for_import: true,
        optional_for_import: false,
        description: description.into(),
    };
    IdentitySchema {
        version: 0,
        attributes: vec![
            attr("namespace", "Tenant namespace of the cluster."),
            attr("cluster", "Name of the parent `Kubernetes` app."),
            attr("name", "Key of the node group in `spec.nodeGroups`."),
        ],
    }
}

fn identity(namespace: &str, cluster: &str, name: &str) -> Value {
    Value::object([
        ("namespace", Value::string(namespace)),
        ("cluster", Value::string(cluster)),
        ("name", Value::string(name)),
    ])
}

// ---------------------------------------------------------------------------
// Validation

fn rule_input(config: &Value) -> NodeGroupInput {
    let resources = match config.get("resources") {
        v if !v.is_known() => Known::Unknown,
        v if v.is_null() => Known::Null,
        v => Known::Value(NodeGroupResources {
            cpu: common::known_str(v.get("cpu")),
            memory: common::known_str(v.get("memory")),
        }),
    };
    NodeGroupInput {
        cluster: common::known_str(config.get("cluster")),
        name: common::known_str(config.get("name")),
        min_replicas: common::known_i64(config.get("min_replicas")),
        max_replicas: common::known_i64(config.get("max_replicas")),
        instance_type: common::known_str(config.get("instance_type")),
        disk_size: common::known_str(config.get("disk_size")),
        resources,
        gpus: common::known_gpus(config.get("gpus")),
    }
}

fn validate_config(config: &Value) -> Diagnostics {
    let findings = catalog::check_nodegroup(&rule_input(config), &RuleContext::offline());
    let mut d = common::findings_to_diags(findings);
    if config.get("name").as_str() == Some(DEFAULT_NODE_GROUP) {
        d.error_at(
            AttrPath::root("name"),
            "md0 is the cluster's default node group",
            "Cozystack up to v1.5 merges the chart's `md0` node group into every cluster and puts it back \
             when removed, so it cannot be owned by a hikube_gpu_nodegroup. Fix: choose another name, and \
             leave md0 to the cluster definition.",
        );
    }
    d.extend(Timeouts::validate(config.get("timeouts")));
    d
}

// ---------------------------------------------------------------------------
// Model: Terraform values <-> the entry we write

/// What an apply writes, from the planned state; GPU names resolved
/// against what the cluster offers.
fn desired_spec(planned: &Value, offers: &ClusterOffers) -> Result<NodeGroupSpec, Diagnostics> {
    let mut diags = Diagnostics::new();
    let d = NodeGroupSpec::default();
    let mut gpus = Vec::new();
    for (i, user) in common::gpu_names(planned.get("gpus")).iter().enumerate() {
        match catalog::resolve_gpu(user, offers.gpus.as_deref()) {
            Ok(r) => gpus.push(r.resource_name),
            Err(e) => diags.error_at(
                AttrPath::root("gpus"),
                format!("Unknown GPU in gpus[{i}]"),
                format!("{e}. Fix: {}", e.fix()),
            ),
        }
    }
    if diags.has_errors() {
        return Err(diags);
    }
    let res = planned.get("resources");
    Ok(NodeGroupSpec {
        min_replicas: planned
            .get("min_replicas")
            .as_i64()
            .unwrap_or(d.min_replicas),
        max_replicas: planned
            .get("max_replicas")
            .as_i64()
            .unwrap_or(d.max_replicas),
        instance_type: planned
            .get("instance_type")
            .as_str()
            .map(str::to_string)
            .unwrap_or(d.instance_type),
        disk_size: planned
            .get("disk_size")
            .as_str()
            .map(str::to_string)
            .unwrap_or(d.disk_size),
        roles: string_list(planned.get("roles")),
        resources: NodeResources {
            cpu: res.get("cpu").as_str().map(str::to_string),
            memory: res.get("memory").as_str().map(str::to_string),
        },
        gpus,
    })
}

fn string_list(v: &Value) -> Vec<String> {
    v.as_list()
        .map(|l| {
            l.iter()
                .filter_map(|s| s.as_str().map(str::to_string))
                .collect()
        })
        .unwrap_or_default()
}

/// The attributes that make up the entry (a change in any needs a write).
const OWNED: &[&str] = &[
    "min_replicas",
    "max_replicas",
    "instance_type",
    "disk_size",
    "roles",
    "resources",
    "gpus",
];

/// A quantity from the API, in the user's spelling when it is the same value.
fn keep_quantity(prior: &Value, api: &str) -> Value {
    match prior.as_str() {
        Some(p) if same_quantity(p, api) => Value::string(p),
        _ => Value::string(api),
    }
}

/// The state for an entry read from the API. `prior` (state, or the
/// planned state on apply) supplies the user's spellings and the
/// attributes the API does not hold.
fn state_from(prior: &Value, t: &Target<'_>, entry: &Json, cluster: &Json) -> Value {
    let spec = NodeGroupSpec::from_entry(entry).unwrap_or_default();
    let mut m = BTreeMap::new();
    m.insert(
        "id".into(),
        Value::string(format!("{}/{}/{}", t.namespace, t.cluster, t.name)),
    );
    m.insert("namespace".into(), Value::string(t.namespace));
    m.insert("cluster".into(), Value::string(t.cluster));
    m.insert("name".into(), Value::string(t.name));
    m.insert("min_replicas".into(), Value::number_i64(spec.min_replicas));
    m.insert("max_replicas".into(), Value::number_i64(spec.max_replicas));
    m.insert(
        "instance_type".into(),
        Value::string(spec.instance_type.clone()),
    );
    m.insert(
        "disk_size".into(),
        keep_quantity(prior.get("disk_size"), &spec.disk_size),
    );
    m.insert(
        "roles".into(),
        Value::List(
            spec.roles
                .iter()
                .map(|r| Value::string(r.clone()))
                .collect(),
        ),
    );
    let prior_res = prior.get("resources");
    let resources = if spec.resources.is_empty() {
        // `resources = {}` in configuration reads back as an empty object.
        if prior_res
            .as_object()
            .is_some_and(|o| o.values().all(Value::is_null))
        {
            prior_res.clone()
        } else {
            Value::Null
        }
    } else {
        let q = |name: &str, api: &Option<String>| match api {
            Some(a) => keep_quantity(prior_res.get(name), a),
            None => Value::Null,
        };
        Value::object([
            ("cpu", q("cpu", &spec.resources.cpu)),
            ("memory", q("memory", &spec.resources.memory)),
        ])
    };
    m.insert("resources".into(), resources);
    let prior_gpus = common::gpu_names(prior.get("gpus"));
    let gpus: Vec<String> = spec
        .gpus
        .iter()
        .enumerate()
        .map(|(i, api)| match prior_gpus.get(i) {
            Some(user) if catalog::same_gpu(user, api) => user.clone(),
            _ => api.clone(),
        })
        .collect();
    m.insert("gpus".into(), common::gpus_value(&gpus));
    let wait = prior.get("wait_for_ready");
    m.insert(
        "wait_for_ready".into(),
        if wait.is_known() && !wait.is_null() {
            wait.clone()
        } else {
            Value::Bool(true)
        },
    );
    let r = common::readiness(cluster);
    m.insert("ready".into(), Value::Bool(r.ready));
    m.insert("status_message".into(), Value::string(r.message));
    m.insert("timeouts".into(), prior.get("timeouts").clone());
    Value::Object(m)
}

/// The state of a node group whose write failed midway: Terraform keeps it
/// (tainted) so that the next apply cleans up.
fn tainted(planned: &Value, t: &Target<'_>) -> Value {
    let mut m = planned.as_object().cloned().unwrap_or_default();
    m.insert(
        "id".into(),
        Value::string(format!("{}/{}/{}", t.namespace, t.cluster, t.name)),
    );
    m.insert("namespace".into(), Value::string(t.namespace));
    for k in ["ready", "status_message"] {
        if !m.get(k).is_some_and(Value::is_known) {
            m.insert(k.into(), Value::Null);
        }
    }
    Value::Object(m)
}

// ---------------------------------------------------------------------------
// Errors

fn cluster_not_found(namespace: &str, cluster: &str) -> Diagnostics {
    Diagnostic::error(
        format!("Kubernetes cluster {cluster:?} not found in namespace {namespace:?}"),
        format!(
            "hikube_gpu_nodegroup adds a node group to an existing managed cluster, and there is no \
             `Kubernetes` app named {cluster:?} in namespace {namespace:?}. Fix: create the cluster first \
             (or depend on the resource that creates it), or correct `cluster` / `namespace`."
        ),
    )
    .at(AttrPath::root("cluster"))
    .into()
}

fn write_error(e: &WriteError) -> Diagnostics {
    match e {
        WriteError::ClusterNotFound { namespace, cluster } => cluster_not_found(namespace, cluster),
        WriteError::AlreadyExists { namespace, cluster, name } => Diagnostic::error(
            "Node group already exists",
            format!(
                "{e}: another definition (the cluster itself, or another configuration) owns it. Fix: choose \
                 another `name`, or adopt it with `terraform import {TYPE_NAME}.<address> {namespace}/{cluster}/{name}`."
            ),
        )
        .at(AttrPath::root("name"))
        .into(),
        WriteError::NotConverged { .. } => Diagnostic::error(
            "Node group write did not hold",
            format!(
                "{e}. Something else keeps rewriting this cluster's node groups (another Terraform run, or a \
                 controller). Fix: make sure only one configuration manages these node groups, then apply again."
            ),
        )
        .into(),
        WriteError::Api { .. } | WriteError::Cancelled => Diagnostic::error("Failed to write the node group", e.to_string()).into(),
    }
}

fn api_error(summary: &str, e: &CozyError) -> Diagnostics {
    common::api_diag(summary, e)
}

fn parse_import_id(id: &str) -> Option<(String, String, String)> {
    let parts: Vec<&str> = id.split('/').collect();
    match parts.as_slice() {
        [ns, cluster, name] if !ns.is_empty() && !cluster.is_empty() && !name.is_empty() => {
            Some((ns.to_string(), cluster.to_string(), name.to_string()))
        }
        _ => None,
    }
}

// ---------------------------------------------------------------------------
// The resource

impl GpuNodeGroup {
    /// Session, client and namespace for an apply.
    async fn connect<'s>(
        &self,
        session: &'s Session,
        planned: &Value,
    ) -> Result<(&'s CozyClient, String), Diagnostics> {
        let namespace = common::namespace(planned.get("namespace"), session)?;
        let client = session
            .client()
            .await
            .map_err(|e| api_error("Cannot reach the Kubernetes API", &e))?;
        Ok((client, namespace))
    }

    /// Write the entry (create or update), then optionally wait for the
    /// cluster to be Ready, and build the new state.
    async fn apply(&self, ctx: &Ctx, planned: &Value, creating: bool) -> StateResult {
        let session = match common::session(&self.session) {
            Ok(s) => s,
            Err(d) => return StateResult::failed(d),
        };
        let (client, namespace) = match self.connect(&session, planned).await {
            Ok(x) => x,
            Err(d) => return StateResult::failed(d),
        };
        let (Some(cluster), Some(name)) = (
            planned.get("cluster").as_str(),
            planned.get("name").as_str(),
        ) else {
            return StateResult::failed(
                Diagnostic::error("Invalid plan", "cluster and name must be known at apply").into(),
            );
        };
        let t = Target {
            namespace: &namespace,
            cluster,
            name,
        };
        let generation = match client.generation().await {
            Ok(g) => g,
            Err(e) => {
                return StateResult::failed(api_error("Cannot discover the Cozystack API", &e));
            }
        };
        let offers = self.offers(client, &namespace).await;
        let spec = match desired_spec(planned, &offers) {
            Ok(s) => s,
            Err(d) => return StateResult::failed(d),
        };
        tracing::info!(
            namespace,
            cluster,
            name,
            creating,
            gpus = spec.gpus.len(),
            "writing GPU node group"
        );
        let change = if creating {
            Change::Create(spec)
        } else {
            Change::Update(spec)
        };
        let written = match nodegroup_writer::write(client, generation, &t, change, &ctx.cancel)
            .await
        {
            Ok(Some(obj)) => obj,
            Ok(None) => return StateResult::failed(cluster_not_found(&namespace, cluster)),
            Err(e @ (WriteError::ClusterNotFound { .. } | WriteError::AlreadyExists { .. })) => {
                return StateResult::failed(write_error(&e));
            }
            Err(e) => {
                return StateResult {
                    state: tainted(planned, &t),
                    diagnostics: write_error(&e),
                    identity: Some(identity(&namespace, cluster, name)),
                };
            }
        };
        let timeouts = Timeouts::from_value(planned.get("timeouts"), DEFAULT_TIMEOUTS);
        let timeout = if creating {
            timeouts.create
        } else {
            timeouts.update
        };
        self.finish(ctx, client, planned, &t, written, timeout)
            .await
    }

    /// Wait for Ready when asked, and turn the verified entry into state.
    async fn finish(
        &self,
        ctx: &Ctx,
        client: &CozyClient,
        planned: &Value,
        t: &Target<'_>,
        written: Json,
        timeout: Duration,
    ) -> StateResult {
        let mut diagnostics = Diagnostics::new();
        let mut cluster_obj = written.clone();
        if planned.get("wait_for_ready").as_bool().unwrap_or(true) {
            match common::wait_ready(client, &t.cluster_path(), timeout, true, &ctx.cancel).await {
                Ok(WaitOutcome::Ready(obj)) => cluster_obj = obj,
                Ok(WaitOutcome::Failed(obj, msg)) => {
                    diagnostics.error(
                        "The cluster failed to apply the node group",
                        format!(
                            "Kubernetes cluster {}/{} reports Ready=False after the change: {msg}. Fix: correct the node \
                             group (or the cluster) and apply again; set `wait_for_ready = false` to not wait.",
                            t.namespace, t.cluster
                        ),
                    );
                    cluster_obj = obj;
                }
                Ok(WaitOutcome::Gone) => {
                    return StateResult::failed(cluster_not_found(t.namespace, t.cluster));
                }
                Err(e) => diagnostics.extend(api_error(
                    "Timed out waiting for the cluster to be Ready",
                    &e,
                )),
            }
        }
        let Some(entry) = nodegroup::entry(&written, t.name) else {
            return StateResult::failed(
                Diagnostic::error("Node group vanished", "the verified entry is missing").into(),
            );
        };
        StateResult {
            state: state_from(planned, t, entry, &cluster_obj),
            diagnostics,
            identity: Some(identity(t.namespace, t.cluster, t.name)),
        }
    }
}

fn set(plan: &mut Plan, attr: &str, v: Value) {
    if let Value::Object(m) = &mut plan.planned_state {
        m.insert(attr.into(), v);
    }
}

#[async_trait]
impl Resource for GpuNodeGroup {
    fn type_name(&self) -> &'static str {
        TYPE_NAME
    }

    fn schema(&self) -> Schema {
        schema()
    }

    fn identity_schema(&self) -> Option<IdentitySchema> {
        Some(identity_schema())
    }

    fn validate(&self, config: &Value) -> Diagnostics {
        validate_config(config)
    }

    async fn modify_plan(&self, _ctx: &Ctx, req: &PlanRequest, plan: &mut Plan) {
        let Some(session) = self.session.try_get() else {
            return;
        };
        let prior = &req.prior_state;

        // The namespace (the provider's default, when not set) and the id
        // are known at plan time; a new provider default replaces.
        if req.config.get("namespace").is_null()
            && let Some(ns) = session.namespace()
        {
            if prior.get("namespace").as_str().is_some_and(|p| p != ns) {
                plan.requires_replace.push(AttrPath::root("namespace"));
            }
            set(plan, "namespace", Value::string(ns));
        }
        let p = &plan.planned_state;
        if let (Some(ns), Some(c), Some(n)) = (
            p.get("namespace").as_str(),
            p.get("cluster").as_str(),
            p.get("name").as_str(),
        ) {
            let id = Value::string(format!("{ns}/{c}/{n}"));
            set(plan, "id", id);
        }

        // Quantities equal by value keep the state's spelling (no diff).
        if !prior.is_null() {
            let disk = (
                req.config.get("disk_size").as_str(),
                prior.get("disk_size").as_str(),
            );
            if let (Some(c), Some(p)) = disk
                && same_quantity(c, p)
            {
                set(plan, "disk_size", Value::string(p));
            }
            let (cres, pres) = (req.config.get("resources"), prior.get("resources"));
            if let (Some(c), Some(p)) = (cres.as_object(), pres.as_object()) {
                let mut r = c.clone();
                for k in ["cpu", "memory"] {
                    if let (Some(cv), Some(pv)) = (
                        c.get(k).and_then(Value::as_str),
                        p.get(k).and_then(Value::as_str),
                    ) && same_quantity(cv, pv)
                    {
                        r.insert(k.into(), Value::string(pv));
                    }
                }
                set(plan, "resources", Value::Object(r));
            }
            // GPU names that name the same GPU as the state (`H100` after
            // importing `nvidia.com/H100_94GB`) keep the state's spelling.
            if let (Some(c), Some(p)) = (
                req.config.get("gpus").as_list(),
                prior.get("gpus").as_list(),
            ) && c.len() == p.len()
            {
                let same =
                    |c: &Value, p: &Value| match (c.get("name").as_str(), p.get("name").as_str()) {
                        (Some(c), Some(p)) => catalog::same_gpu(c, p) || catalog::same_gpu(p, c),
                        _ => false,
                    };
                if c.iter().zip(p).all(|(c, p)| same(c, p)) {
                    set(plan, "gpus", prior.get("gpus").clone());
                }
            }
            // Nothing left to change: keep the computed attributes.
            let planned = &plan.planned_state;
            let unchanged = OWNED
                .iter()
                .chain(&["wait_for_ready", "timeouts", "namespace", "cluster", "name"])
                .all(|k| planned.get(k) == prior.get(k));
            if unchanged {
                for k in ["ready", "status_message"] {
                    set(plan, k, prior.get(k).clone());
                }
            }
        }

        // Cluster-aware checks: the GPUs and instance types this cluster offers.
        let Some(ns) = plan
            .planned_state
            .get("namespace")
            .as_str()
            .map(str::to_string)
        else {
            return;
        };
        let client = match session.client().await {
            Ok(c) => c,
            Err(e) => {
                plan.diagnostics
                    .extend(api_error("Cannot reach the Kubernetes API", &e));
                return;
            }
        };
        let offers = self.offers(client, &ns).await;
        let input = rule_input(&req.config);
        let offline: Vec<_> = catalog::check_nodegroup(&input, &RuleContext::offline())
            .into_iter()
            .map(|f| (f.summary.clone(), f.path_string()))
            .collect();
        let online: Vec<_> = catalog::check_nodegroup(&input, &common::rule_context(&offers))
            .into_iter()
            .filter(|f| !offline.contains(&(f.summary.clone(), f.path_string())))
            .collect();
        plan.diagnostics.extend(common::findings_to_diags(online));
    }

    async fn create(&self, ctx: &Ctx, planned: &Value, _config: &Value) -> StateResult {
        self.apply(ctx, planned, true).await
    }

    async fn read(&self, _ctx: &Ctx, state: &Value) -> StateResult {
        let session = match common::session(&self.session) {
            Ok(s) => s,
            Err(d) => return StateResult::failed(d),
        };
        let (Some(ns), Some(cluster), Some(name)) = (
            state.get("namespace").as_str(),
            state.get("cluster").as_str(),
            state.get("name").as_str(),
        ) else {
            return StateResult::failed(
                Diagnostic::error(
                    "Invalid state",
                    "the state has no namespace, cluster or name",
                )
                .into(),
            );
        };
        let client = match session.client().await {
            Ok(c) => c,
            Err(e) => return StateResult::failed(api_error("Cannot reach the Kubernetes API", &e)),
        };
        let t = Target {
            namespace: ns,
            cluster,
            name,
        };
        let obj = match client.get_opt(&t.cluster_path()).await {
            Ok(Some(obj)) => obj,
            Ok(None) => {
                tracing::info!(
                    namespace = ns,
                    cluster,
                    name,
                    "parent cluster is gone; removing the node group from state"
                );
                return StateResult::default();
            }
            Err(e) => {
                return StateResult::failed(api_error("Failed to read the Kubernetes cluster", &e));
            }
        };
        let Some(entry) = nodegroup::entry(&obj, name) else {
            tracing::info!(
                namespace = ns,
                cluster,
                name,
                "node group is gone; removing it from state"
            );
            return StateResult::default();
        };
        StateResult {
            state: state_from(state, &t, entry, &obj),
            diagnostics: Diagnostics::new(),
            identity: Some(identity(ns, cluster, name)),
        }
    }

    async fn update(
        &self,
        ctx: &Ctx,
        prior: &Value,
        planned: &Value,
        _config: &Value,
    ) -> StateResult {
        if OWNED.iter().any(|k| prior.get(k) != planned.get(k)) {
            return self.apply(ctx, planned, false).await;
        }
        // Only wait_for_ready or timeouts changed: nothing to write.
        let mut out = self.read(ctx, planned).await;
        if !out.state.is_null() && !out.diagnostics.has_errors() {
            out.state = state_from_planned_extras(out.state, planned);
        }
        out
    }

    async fn delete(&self, ctx: &Ctx, prior: &Value) -> Diagnostics {
        let session = match common::session(&self.session) {
            Ok(s) => s,
            Err(d) => return d,
        };
        let (client, namespace) = match self.connect(&session, prior).await {
            Ok(x) => x,
            Err(d) => return d,
        };
        let (Some(cluster), Some(name)) =
            (prior.get("cluster").as_str(), prior.get("name").as_str())
        else {
            return Diagnostic::error("Invalid state", "the state has no cluster or name").into();
        };
        let t = Target {
            namespace: &namespace,
            cluster,
            name,
        };
        let generation = match client.generation().await {
            Ok(g) => g,
            Err(e) => return api_error("Cannot discover the Cozystack API", &e),
        };
        tracing::info!(namespace, cluster, name, "removing GPU node group");
        match nodegroup_writer::write(client, generation, &t, Change::Delete, &ctx.cancel).await {
            Ok(Some(_)) => {}
            Ok(None) | Err(WriteError::ClusterNotFound { .. }) => return Diagnostics::new(),
            Err(e) => return write_error(&e),
        }
        if prior.get("wait_for_ready").as_bool().unwrap_or(true) {
            let timeout = Timeouts::from_value(prior.get("timeouts"), DEFAULT_TIMEOUTS).delete;
            match common::wait_ready(client, &t.cluster_path(), timeout, true, &ctx.cancel).await {
                Ok(WaitOutcome::Ready(_) | WaitOutcome::Gone) => {}
                Ok(WaitOutcome::Failed(_, msg)) => {
                    let mut d = Diagnostics::new();
                    d.push(Diagnostic::warning(
                        "The cluster is not Ready after removing the node group",
                        format!(
                            "Kubernetes cluster {namespace}/{cluster} reports Ready=False: {msg}"
                        ),
                    ));
                    return d;
                }
                Err(e) => return api_error("Timed out waiting for the cluster to be Ready", &e),
            }
        }
        Diagnostics::new()
    }

    async fn import(&self, ctx: &Ctx, id: &str, identity_value: Option<&Value>) -> StateResult {
        let parsed = match identity_value {
            Some(i) if i.get("name").as_str().is_some() => Some((
                i.get("namespace").as_str().unwrap_or_default().to_string(),
                i.get("cluster").as_str().unwrap_or_default().to_string(),
                i.get("name").as_str().unwrap_or_default().to_string(),
            ))
            .filter(|(ns, c, _)| !ns.is_empty() && !c.is_empty()),
            _ => parse_import_id(id),
        };
        let Some((ns, cluster, name)) = parsed else {
            return StateResult::failed(
                Diagnostic::error(
                    "Invalid import ID",
                    format!(
                        "`{id}` is not `<namespace>/<cluster>/<name>`. Fix: e.g. \
                         `terraform import {TYPE_NAME}.gpu_workers tenant-root/gpu-cluster/gpu-workers`."
                    ),
                )
                .into(),
            );
        };
        let mut m = BTreeMap::new();
        m.insert(
            "id".to_string(),
            Value::string(format!("{ns}/{cluster}/{name}")),
        );
        m.insert("namespace".to_string(), Value::string(ns.clone()));
        m.insert("cluster".to_string(), Value::string(cluster.clone()));
        m.insert("name".to_string(), Value::string(name.clone()));
        m.insert("wait_for_ready".to_string(), Value::Bool(true));
        let state = Value::Object(m);
        // Fail early and clearly when there is nothing to import.
        let read = self.read(ctx, &state).await;
        if read.diagnostics.has_errors() {
            return read;
        }
        if read.state.is_null() {
            return StateResult::failed(
                Diagnostic::error(
                    "Cannot import a node group that does not exist",
                    format!(
                        "There is no node group {name:?} in Kubernetes cluster {ns}/{cluster} (or no such cluster). \
                         Fix: check the ID `<namespace>/<cluster>/<name>`."
                    ),
                )
                .into(),
            );
        }
        read
    }
}

/// After a read-only update, the settings that live only in Terraform
/// (`wait_for_ready`, `timeouts`) come from the plan.
fn state_from_planned_extras(state: Value, planned: &Value) -> Value {
    let mut m = state.as_object().cloned().unwrap_or_default();
    m.insert(
        "wait_for_ready".into(),
        planned.get("wait_for_ready").clone(),
    );
    m.insert("timeouts".into(), planned.get("timeouts").clone());
    Value::Object(m)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn config(pairs: &[(&str, Value)]) -> Value {
        let mut m: BTreeMap<String, Value> = schema()
            .block
            .attributes
            .iter()
            .map(|a| (a.name.clone(), Value::Null))
            .collect();
        m.insert("timeouts".into(), Value::Null);
        for (k, v) in pairs {
            m.insert(k.to_string(), v.clone());
        }
        Value::Object(m)
    }

    fn gpus(names: &[&str]) -> Value {
        common::gpus_value(&names.iter().map(|s| s.to_string()).collect::<Vec<_>>())
    }

    fn summaries(d: &Diagnostics) -> Vec<String> {
        d.iter().map(|d| d.summary.clone()).collect()
    }

    #[test]
    fn every_attribute_is_described() {
        let s = schema();
        for a in &s.block.attributes {
            assert!(!a.description.is_empty(), "{} has no description", a.name);
            if let crate::plugin::schema::AttrKind::Nested(_, inner) = &a.kind {
                for i in inner {
                    assert!(
                        !i.description.is_empty(),
                        "{}.{} has no description",
                        a.name,
                        i.name
                    );
                }
            }
        }
        assert!(s.block.attribute("cluster").unwrap().requires_replace);
        assert!(s.block.attribute("name").unwrap().requires_replace);
        assert!(s.block.attribute("namespace").unwrap().requires_replace);
        assert_eq!(identity_schema().attributes.len(), 3);
    }

    #[test]
    fn validation_catches_replicas_gpus_sizing_and_md0() {
        let ok = config(&[
            ("cluster", Value::string("gpu-cluster")),
            ("name", Value::string("gpu-workers")),
            ("min_replicas", Value::number_i64(1)),
            ("max_replicas", Value::number_i64(5)),
            ("instance_type", Value::string("u1.xlarge")),
            ("disk_size", Value::string("100Gi")),
            ("gpus", gpus(&["nvidia.com/L40S"])),
        ]);
        assert!(
            !validate_config(&ok).has_errors(),
            "{:?}",
            validate_config(&ok)
        );

        let bad = config(&[
            ("cluster", Value::string("gpu-cluster")),
            ("name", Value::string("md0")),
            ("min_replicas", Value::number_i64(3)),
            ("max_replicas", Value::number_i64(2)),
            ("gpus", gpus(&["nvidia.com/L4OS"])),
            (
                "resources",
                Value::object([("cpu", Value::string("8")), ("memory", Value::Null)]),
            ),
            (
                "timeouts",
                Value::object([("create", Value::string("soon"))]),
            ),
        ]);
        let d = validate_config(&bad);
        let s = summaries(&d);
        assert!(
            s.iter()
                .any(|s| s.contains("min_replicas is above max_replicas")),
            "{s:?}"
        );
        assert!(s.iter().any(|s| s.contains("md0")), "{s:?}");
        assert!(
            s.iter().any(|s| s.contains("resources.memory is missing")),
            "{s:?}"
        );
        assert!(s.iter().any(|s| s == "Invalid timeout"), "{s:?}");
        assert!(
            d.iter().any(|d| d
                .attribute
                .as_ref()
                .is_some_and(|p| p.to_string() == "gpus[0].name")),
            "{d:?}"
        );
        let missing = d
            .iter()
            .find(|d| d.summary.contains("resources.memory is missing"))
            .unwrap();
        assert_eq!(
            missing.attribute.as_ref().map(|p| p.to_string()).as_deref(),
            Some("resources.memory")
        );
    }

    #[test]
    fn unknown_values_are_not_errors() {
        let c = config(&[
            ("cluster", Value::unknown()),
            ("name", Value::string("pool")),
            ("min_replicas", Value::unknown()),
            ("max_replicas", Value::number_i64(2)),
            ("gpus", Value::unknown()),
            ("resources", Value::unknown()),
        ]);
        assert!(
            !validate_config(&c).has_errors(),
            "{:?}",
            validate_config(&c)
        );
    }

    #[test]
    fn desired_spec_resolves_gpus_and_keeps_defaults() {
        let planned = config(&[
            ("min_replicas", Value::number_i64(1)),
            ("max_replicas", Value::number_i64(2)),
            ("instance_type", Value::string("u1.4xlarge")),
            ("disk_size", Value::string("20Gi")),
            ("roles", Value::List(vec![])),
            ("gpus", gpus(&["nvidia.com/A100", "A100"])),
        ]);
        let spec = desired_spec(&planned, &ClusterOffers::default()).unwrap();
        assert_eq!(spec.gpus, vec!["nvidia.com/GA100_A100_PCIE_80GB"; 2]);
        assert_eq!(spec.instance_type, "u1.4xlarge");
        assert!(spec.resources.is_empty());
        let offers = ClusterOffers {
            gpus: Some(vec![catalog::OfferedGpu::new(
                "nvidia.com/AD102GL_L40S",
                Some(2),
            )]),
            instance_types: None,
        };
        let err = desired_spec(&planned, &offers).unwrap_err();
        assert!(err.has_errors());
    }

    #[test]
    fn state_keeps_user_spellings_and_fills_computed() {
        let planned = config(&[
            ("namespace", Value::string("tenant-root")),
            ("cluster", Value::string("c")),
            ("name", Value::string("gpu-workers")),
            ("disk_size", Value::string("100Gi")),
            ("gpus", gpus(&["nvidia.com/L40S"])),
            (
                "resources",
                Value::object([
                    ("cpu", Value::string("16")),
                    ("memory", Value::string("64Gi")),
                ]),
            ),
        ]);
        let entry = json!({
            "minReplicas": 1, "maxReplicas": 5, "instanceType": "u1.xlarge", "diskSize": 107374182400u64,
            "roles": [], "resources": {"cpu": 16, "memory": "65536Mi"},
            "gpus": [{"name": "nvidia.com/AD102GL_L40S"}]
        });
        let cluster = json!({"status": {"conditions": [{"type": "Ready", "status": "True", "message": "ok"}]}});
        let t = Target {
            namespace: "tenant-root",
            cluster: "c",
            name: "gpu-workers",
        };
        let s = state_from(&planned, &t, &entry, &cluster);
        assert_eq!(s.get("id").as_str(), Some("tenant-root/c/gpu-workers"));
        assert_eq!(s.get("disk_size").as_str(), Some("100Gi"));
        assert_eq!(common::gpu_names(s.get("gpus")), vec!["nvidia.com/L40S"]);
        assert_eq!(s.get("resources").get("memory").as_str(), Some("64Gi"));
        assert_eq!(s.get("resources").get("cpu").as_str(), Some("16"));
        assert_eq!(s.get("ready"), &Value::Bool(true));
        assert_eq!(s.get("status_message").as_str(), Some("ok"));
        assert_eq!(s.get("wait_for_ready"), &Value::Bool(true));

        // Import: no prior spellings, the API's values.
        let s = state_from(&Value::Null, &t, &entry, &cluster);
        assert_eq!(s.get("disk_size").as_str(), Some("107374182400"));
        assert_eq!(
            common::gpu_names(s.get("gpus")),
            vec!["nvidia.com/AD102GL_L40S"]
        );
        // A server-filled empty resources object is no resources.
        let mut e = entry.clone();
        e["resources"] = json!({});
        assert!(
            state_from(&Value::Null, &t, &e, &cluster)
                .get("resources")
                .is_null()
        );
    }

    #[test]
    fn import_ids() {
        assert_eq!(
            parse_import_id("tenant-root/gpu-cluster/gpu-workers"),
            Some((
                "tenant-root".into(),
                "gpu-cluster".into(),
                "gpu-workers".into()
            ))
        );
        assert_eq!(parse_import_id("tenant-root/gpu-workers"), None);
        assert_eq!(parse_import_id("a//b"), None);
        assert_eq!(parse_import_id("a/b/c/d"), None);
    }
}
