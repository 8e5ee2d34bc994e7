//! `hikube_instance_types`: the instance types a VM or node group can use,
//! filtered by series, minimum vCPUs and memory, and built-in GPU, smallest
//! first, so that `instance_types[0]` is the smallest type that fits.
//!
//! The cluster's list (`options/instancetype`, Cozystack v1.5 and later) is
//! authoritative when the cluster publishes one; otherwise the built-in table
//! answers.

use std::sync::Arc;

use async_trait::async_trait;

use crate::catalog::instancetype::SERIES;
use crate::catalog::{InstanceCatalog, InstanceType, Quantity, edit_distance};
use crate::cozystack::CozyError;
use crate::plugin::diag::{AttrPath, Diagnostic, Diagnostics};
use crate::plugin::framework::{Ctx, DataSource, StateResult};
use crate::plugin::schema::{Attribute, Block, Nesting, Schema};
use crate::plugin::value::{Number, Value};
use crate::provider::SharedSession;

use super::common;

/// The data source.
pub struct InstanceTypes {
    session: SharedSession,
}

impl InstanceTypes {
    /// A data source using the provider's session.
    pub fn new(session: &SharedSession) -> Arc<Self> {
        Arc::new(Self {
            session: session.clone(),
        })
    }
}

/// Where a data source's list came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Source {
    /// The cluster's `options` list.
    Cluster,
    /// The provider's built-in catalog.
    Catalog,
}

impl Source {
    /// `cluster` or `catalog`.
    pub fn as_str(self) -> &'static str {
        match self {
            Source::Cluster => "cluster",
            Source::Catalog => "catalog",
        }
    }
}

/// `s` as a sentence: a final period unless it already ends with punctuation.
pub(crate) fn sentence(s: &str) -> String {
    if s.ends_with(['.', '?', '!']) {
        s.to_string()
    } else {
        format!("{s}.")
    }
}

/// A failed read of an `options` list: a warning (the data source goes on
/// with the catalog) when the tenant may not read it, an error otherwise
/// (the cluster is unreachable or broken: answering from the catalog would
/// hide it).
pub(crate) fn options_read_failure(
    what: &str,
    ns: &str,
    e: &CozyError,
) -> Result<Diagnostic, Diagnostics> {
    match e {
        CozyError::Api {
            code: 401 | 403, ..
        } => Ok(Diagnostic::warning(
            format!("Cannot read the cluster's {what} list"),
            format!(
                "{e}. The list shows the provider's built-in catalog only. Fix: ask your Hikube administrator to let namespace {ns} read core.cozystack.io options, or ignore this warning."
            ),
        )),
        _ => Err(common::api_diag(
            &format!("Failed to read the cluster's {what} list"),
            e,
        )),
    }
}

/// Offline check of an optional `namespace`: a DNS-1123 label.
pub(crate) fn validate_namespace(v: &Value) -> Diagnostics {
    let mut d = Diagnostics::new();
    let Some(ns) = v.as_str() else { return d };
    let ok = !ns.is_empty()
        && ns.len() <= 63
        && ns
            .chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-')
        && !ns.starts_with('-')
        && !ns.ends_with('-');
    if !ok {
        let fixed: String = ns
            .to_ascii_lowercase()
            .chars()
            .map(|c| if c.is_ascii_alphanumeric() { c } else { '-' })
            .collect();
        let fixed = fixed.trim_matches('-');
        let fix = if fixed.is_empty() || fixed.len() > 63 {
            "use the tenant's namespace, such as `tenant-root`.".to_string()
        } else {
            format!("use `{fixed}`.")
        };
        d.error_at(
            AttrPath::root("namespace"),
            "Invalid namespace",
            format!(
                "`{ns}` is not a Kubernetes namespace name: lowercase letters, digits and '-', starting and ending with a letter or digit, at most 63 characters. Fix: {fix}"
            ),
        );
    }
    d
}

/// The filters of the data source.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Filter {
    /// Only this series (`u1`).
    pub series: Option<String>,
    /// At least this many vCPUs.
    pub min_vcpu: Option<u32>,
    /// At least this much memory, in bytes.
    pub min_memory: Option<u128>,
    /// Only types with (true) or without (false) a built-in GPU.
    pub gpu_included: Option<bool>,
}

impl Filter {
    /// Whether `t` passes.
    pub fn accepts(&self, t: &InstanceType) -> bool {
        self.series.as_ref().is_none_or(|s| &t.series == s)
            && self.min_vcpu.is_none_or(|n| t.vcpu >= n)
            && self.min_memory.is_none_or(|m| t.memory_bytes >= m)
            && self.gpu_included.is_none_or(|g| t.gpu.is_some() == g)
    }

    /// The filters of a (validated) configuration.
    pub fn from_config(config: &Value) -> Result<Filter, Diagnostics> {
        let d = validate(config);
        if d.has_errors() {
            return Err(d);
        }
        Ok(Filter {
            series: config.get("series").as_str().map(str::to_string),
            min_vcpu: config
                .get("min_vcpu")
                .as_number()
                .and_then(Number::to_u64)
                .map(|n| u32::try_from(n).unwrap_or(u32::MAX)),
            min_memory: config
                .get("min_memory")
                .as_str()
                .and_then(|m| Quantity::parse(m).ok())
                .and_then(|q| q.bytes()),
            gpu_included: config.get("gpu_included").as_bool(),
        })
    }
}

/// The types `filter` accepts, sorted by (vCPU, memory, name).
pub fn select<'a>(
    types: impl IntoIterator<Item = &'a InstanceType>,
    filter: &Filter,
) -> Vec<&'a InstanceType> {
    let mut v: Vec<&InstanceType> = types.into_iter().filter(|t| filter.accepts(t)).collect();
    v.sort_by(|a, b| (a.vcpu, a.memory_bytes, &a.name).cmp(&(b.vcpu, b.memory_bytes, &b.name)));
    v
}

/// A type as a Terraform object.
pub fn type_value(t: &InstanceType) -> Value {
    let description = SERIES.iter().find(|(s, _)| *s == t.series).map(|(_, d)| *d);
    Value::object([
        ("name", Value::string(t.name.clone())),
        ("series", Value::string(t.series.clone())),
        (
            "series_description",
            description.map_or(Value::Null, Value::string),
        ),
        ("vcpu", Value::number_i64(i64::from(t.vcpu))),
        ("memory", Value::string(t.memory_text())),
        (
            "memory_bytes",
            Value::Number(Number::from_u64(
                u64::try_from(t.memory_bytes).unwrap_or(u64::MAX),
            )),
        ),
        ("gpu", t.gpu.clone().map_or(Value::Null, Value::string)),
        ("gpu_included", Value::bool(t.gpu.is_some())),
    ])
}

fn type_attributes() -> Vec<Attribute> {
    vec![
        Attribute::string("name").computed().description("Instance type name, e.g. `u1.2xlarge`: the value for `instance_type`."),
        Attribute::string("series").computed().description("The series, the part of the name before the dot, e.g. `u1`."),
        Attribute::string("series_description")
            .computed()
            .description("What the series is for (e.g. `universal, 1:4 vCPU:memory`); null for a series the provider does not know."),
        Attribute::number("vcpu").computed().description("Guest vCPUs."),
        Attribute::string("memory").computed().description("Guest memory as a Kubernetes quantity, e.g. `32Gi` (s1 types use decimal `G`)."),
        Attribute::number("memory_bytes").computed().description("Guest memory in bytes."),
        Attribute::string("gpu").computed().description(
            "The GPU resource name built into the type (gn1: `nvidia.com/A400`); null for types without one. Never add `gpus` to such a type.",
        ),
        Attribute::bool("gpu_included").computed().description("Whether the type carries a built-in GPU."),
    ]
}

/// The schema.
pub fn schema() -> Schema {
    Schema::new(
        Block::new(
            "The instance types a `hikube_gpu_vm` or `hikube_gpu_nodegroup` can use, with their vCPUs, memory and built-in GPU, \
             filtered and sorted smallest first (vCPU, then memory, then name): `instance_types[0]` is the smallest type that fits. \
             The cluster's list when it publishes one (Cozystack v1.5 and later), else the provider's built-in table.",
        )
        .attr(Attribute::string("id").computed().description("The namespace the list was read for."))
        .attr(Attribute::string("namespace").optional().description(
            "Tenant namespace whose offer to read. Defaults to the provider's `namespace`.",
        ))
        .attr(Attribute::string("series").optional().description(
            "Only types of this series, e.g. `u1` (universal, 1:4), `s1` (Hikube standard, 1:2), `gn1` (built-in GPU).",
        ))
        .attr(Attribute::number("min_vcpu").optional().description(
            "Only types with at least this many vCPUs. A whole number of 0 or more.",
        ))
        .attr(Attribute::string("min_memory").optional().description(
            "Only types with at least this much memory, as a Kubernetes quantity such as `32Gi` or `16G`.",
        ))
        .attr(Attribute::bool("gpu_included").optional().description(
            "`true`: only types with a built-in GPU (gn1); `false`: only types without one. Unset: both.",
        ))
        .attr(Attribute::string("source").computed().description(
            "`cluster` when the list is the cluster's, `catalog` when the cluster does not publish one and the built-in table answered.",
        ))
        .attr(
            Attribute::nested("instance_types", Nesting::List, type_attributes())
                .computed()
                .description("The matching types, smallest first (vCPU, then memory, then name)."),
        ),
    )
}

/// Offline checks of the filters.
pub fn validate(config: &Value) -> Diagnostics {
    let mut d = validate_namespace(config.get("namespace"));
    if let Some(s) = config.get("series").as_str() {
        if let Some((series, _)) = s.split_once('.') {
            d.error_at(
                AttrPath::root("series"),
                "Invalid series",
                format!("`{s}` is an instance type name; `series` is the part before the dot. Fix: write `series = \"{series}\"`."),
            );
        } else if s.is_empty()
            || s.chars()
                .any(|c| !(c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-'))
        {
            let lower = s.to_ascii_lowercase();
            let fix = if !lower.is_empty()
                && lower.chars().all(|c| c.is_ascii_alphanumeric() || c == '-')
            {
                format!("write `{lower}`.")
            } else {
                "write a series such as `u1`.".to_string()
            };
            d.error_at(
                AttrPath::root("series"),
                "Invalid series",
                format!("`{s}` is not a series name: instance type names are lowercase letters, digits and '-'. Fix: {fix}"),
            );
        } else if !InstanceCatalog::is_builtin_series(s) {
            let near: Vec<&str> = SERIES
                .iter()
                .map(|(n, _)| *n)
                .filter(|n| edit_distance(s, n) <= 1)
                .collect();
            let known: Vec<&str> = SERIES.iter().map(|(n, _)| *n).collect();
            let fix = match near.first() {
                Some(n) => format!("if this is a typo, write `{n}`."),
                None => format!("if this is a typo, use one of {}.", known.join(", ")),
            };
            d.warning_at(
                AttrPath::root("series"),
                "Series not in the built-in table",
                format!(
                    "Series `{s}` is not one the provider knows ({}); the list is empty unless the cluster defines it. Fix: {fix}",
                    known.join(", ")
                ),
            );
        }
    }
    if let Some(n) = config.get("min_vcpu").as_number()
        && (n.is_negative() || !n.is_integer())
    {
        d.error_at(
            AttrPath::root("min_vcpu"),
            "Invalid min_vcpu",
            format!("`min_vcpu = {}` is not a whole number of 0 or more. Fix: write a whole number such as 8.", n.to_f64()),
        );
    }
    if let Some(m) = config.get("min_memory").as_str() {
        match Quantity::parse(m) {
            Err(e) => {
                let fix = match e.hint() {
                    Some(h) => format!("write `{h}`."),
                    None => "write a size such as `32Gi`.".to_string(),
                };
                d.error_at(AttrPath::root("min_memory"), "Invalid min_memory", format!("{} Fix: {fix}", sentence(&e.to_string())));
            }
            Ok(q) if q.bytes().is_none() => d.error_at(
                AttrPath::root("min_memory"),
                "Invalid min_memory",
                format!("`{m}` is not a whole number of bytes of 0 or more. Fix: write a size such as `32Gi`."),
            ),
            Ok(_) => {}
        }
    }
    d
}

#[async_trait]
impl DataSource for InstanceTypes {
    fn type_name(&self) -> &'static str {
        "hikube_instance_types"
    }

    fn schema(&self) -> Schema {
        schema()
    }

    fn validate(&self, config: &Value) -> Diagnostics {
        validate(config)
    }

    async fn read(&self, _ctx: &Ctx, config: &Value) -> StateResult {
        let filter = match Filter::from_config(config) {
            Ok(f) => f,
            Err(d) => return StateResult::failed(d),
        };
        let session = match common::session(&self.session) {
            Ok(s) => s,
            Err(d) => return StateResult::failed(d),
        };
        let ns = match common::namespace(config.get("namespace"), &session) {
            Ok(ns) => ns,
            Err(d) => return StateResult::failed(d),
        };
        let client = match session.client().await {
            Ok(c) => c,
            Err(e) => return StateResult::failed(common::api_diag("Cannot reach the cluster", &e)),
        };
        let mut diagnostics = Diagnostics::new();
        let from_cluster = match common::read_instancetype_options(client, &ns).await {
            Ok(t) => t.filter(|t| !t.is_empty()),
            Err(e) => match options_read_failure("instance type", &ns, &e) {
                Ok(warning) => {
                    diagnostics.push(warning);
                    None
                }
                Err(d) => return StateResult::failed(d),
            },
        };
        let builtin = InstanceCatalog::builtin();
        let (source, rows): (Source, Vec<Value>) = match &from_cluster {
            Some(types) => (
                Source::Cluster,
                select(types, &filter).into_iter().map(type_value).collect(),
            ),
            None => (
                Source::Catalog,
                select(builtin.iter(), &filter)
                    .into_iter()
                    .map(type_value)
                    .collect(),
            ),
        };
        let mut state = config.as_object().cloned().unwrap_or_default();
        state.insert("id".into(), Value::string(ns));
        state.insert("source".into(), Value::string(source.as_str()));
        state.insert("instance_types".into(), Value::List(rows));
        StateResult {
            state: Value::Object(state),
            diagnostics,
            identity: None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const GI: u128 = 1 << 30;

    fn names<'a>(v: &[&'a InstanceType]) -> Vec<&'a str> {
        v.iter().map(|t| t.name.as_str()).collect()
    }

    fn cfg(pairs: &[(&str, Value)]) -> Value {
        let mut m: Vec<(&str, Value)> = [
            "namespace",
            "series",
            "min_vcpu",
            "min_memory",
            "gpu_included",
        ]
        .iter()
        .map(|k| (*k, Value::Null))
        .collect();
        for (k, v) in pairs {
            m.retain(|(n, _)| n != k);
            m.push((k, v.clone()));
        }
        Value::object(m)
    }

    #[test]
    fn smallest_first_with_every_filter() {
        let c = InstanceCatalog::builtin();
        // The smallest u1 type with 8 vCPU per GPU for 2 GPUs.
        let f = Filter {
            series: Some("u1".into()),
            min_vcpu: Some(16),
            ..Default::default()
        };
        assert_eq!(names(&select(c.iter(), &f)), ["u1.4xlarge", "u1.8xlarge"]);
        let f = Filter {
            min_vcpu: Some(8),
            min_memory: Some(64 * GI),
            gpu_included: Some(false),
            ..Default::default()
        };
        let got = select(c.iter(), &f);
        assert_eq!(
            names(&got)[..3],
            ["m1.2xlarge", "m1.2xlarge1gi", "d1.4xlarge"]
        );
        assert!(
            got.iter()
                .all(|t| t.gpu.is_none() && t.vcpu >= 8 && t.memory_bytes >= 64 * GI)
        );
        let gpu = Filter {
            gpu_included: Some(true),
            ..Default::default()
        };
        assert_eq!(
            names(&select(c.iter(), &gpu)),
            ["gn1.xlarge", "gn1.2xlarge", "gn1.4xlarge", "gn1.8xlarge"]
        );
        assert_eq!(select(c.iter(), &Filter::default()).len(), c.iter().count());
        // Ties on vCPU and memory sort by name.
        let ties = select(
            c.iter(),
            &Filter {
                min_vcpu: Some(32),
                min_memory: Some(128 * GI),
                series: None,
                gpu_included: None,
            },
        );
        assert_eq!(
            names(&ties)[..5],
            [
                "d1.8xlarge",
                "gn1.8xlarge",
                "o1.8xlarge",
                "rt1.8xlarge",
                "u1.8xlarge"
            ]
        );
    }

    #[test]
    fn values_carry_memory_and_gpu() {
        let c = InstanceCatalog::builtin();
        let v = type_value(c.get("gn1.2xlarge").unwrap());
        assert_eq!(v.get("memory").as_str(), Some("32Gi"));
        assert_eq!(v.get("memory_bytes").as_i64(), Some(32 << 30));
        assert_eq!(v.get("gpu").as_str(), Some("nvidia.com/A400"));
        assert_eq!(v.get("gpu_included").as_bool(), Some(true));
        assert_eq!(v.get("series").as_str(), Some("gn1"));
        let s1 = type_value(c.get("s1.xlarge").unwrap());
        assert_eq!(s1.get("memory").as_str(), Some("16G"));
        assert!(s1.get("gpu").is_null());
        let custom = type_value(&InstanceType::new("hk1.big", 48, 192 * GI));
        assert!(custom.get("series_description").is_null());
    }

    #[test]
    fn filters_from_config() {
        let f = Filter::from_config(&cfg(&[
            ("series", Value::string("u1")),
            ("min_vcpu", Value::number_i64(16)),
            ("min_memory", Value::string("32Gi")),
            ("gpu_included", Value::bool(false)),
        ]))
        .unwrap();
        assert_eq!(
            f,
            Filter {
                series: Some("u1".into()),
                min_vcpu: Some(16),
                min_memory: Some(32 * GI),
                gpu_included: Some(false)
            }
        );
        assert_eq!(Filter::from_config(&cfg(&[])).unwrap(), Filter::default());
    }

    fn one(d: &Diagnostics) -> (&str, String, &str) {
        assert_eq!(d.0.len(), 1, "{d:?}");
        let x = &d.0[0];
        (
            if x.severity == crate::plugin::diag::Severity::Error {
                "error"
            } else {
                "warning"
            },
            x.attribute
                .as_ref()
                .map(|a| a.to_string())
                .unwrap_or_default(),
            x.summary.as_str(),
        )
    }

    #[test]
    fn filter_validation() {
        let d = validate(&cfg(&[("min_memory", Value::string("32GB"))]));
        assert_eq!(
            one(&d),
            ("error", "min_memory".into(), "Invalid min_memory")
        );
        assert!(
            d.0[0].detail.contains("Fix: write `32G`"),
            "{}",
            d.0[0].detail
        );
        let d = validate(&cfg(&[("min_memory", Value::string("-1Gi"))]));
        assert_eq!(
            one(&d),
            ("error", "min_memory".into(), "Invalid min_memory")
        );
        let d = validate(&cfg(&[("min_vcpu", Value::number_i64(-2))]));
        assert_eq!(one(&d), ("error", "min_vcpu".into(), "Invalid min_vcpu"));
        let d = validate(&cfg(&[(
            "min_vcpu",
            Value::Number(Number::from_f64(1.5).unwrap()),
        )]));
        assert_eq!(one(&d), ("error", "min_vcpu".into(), "Invalid min_vcpu"));
        let d = validate(&cfg(&[("series", Value::string("u1.large"))]));
        assert_eq!(one(&d), ("error", "series".into(), "Invalid series"));
        assert!(d.0[0].detail.contains("series = \"u1\""));
        let d = validate(&cfg(&[("series", Value::string("U1"))]));
        assert_eq!(one(&d), ("error", "series".into(), "Invalid series"));
        assert!(d.0[0].detail.contains("write `u1`"));
        let d = validate(&cfg(&[("series", Value::string("u2"))]));
        assert_eq!(
            one(&d),
            (
                "warning",
                "series".into(),
                "Series not in the built-in table"
            )
        );
        assert!(d.0[0].detail.contains("write `u1`"), "{}", d.0[0].detail);
        let d = validate(&cfg(&[("namespace", Value::string("Tenant_Root"))]));
        assert_eq!(one(&d), ("error", "namespace".into(), "Invalid namespace"));
        assert!(d.0[0].detail.contains("use `tenant-root`"));
        for ok in [
            cfg(&[]),
            cfg(&[
                ("series", Value::string("s1")),
                ("min_memory", Value::string("0")),
                ("min_vcpu", Value::number_i64(0)),
            ]),
            cfg(&[
                ("min_memory", Value::unknown()),
                ("series", Value::unknown()),
                ("min_vcpu", Value::unknown()),
            ]),
        ] {
            assert!(validate(&ok).is_empty(), "{:?}", validate(&ok));
        }
    }

    #[test]
    fn forbidden_options_degrade_to_a_warning() {
        let e = CozyError::Api {
            method: "GET".into(),
            path: "/x".into(),
            code: 403,
            message: "forbidden".into(),
        };
        let w = options_read_failure("GPU", "tenant-a", &e).unwrap();
        assert_eq!(w.severity, crate::plugin::diag::Severity::Warning);
        let e = CozyError::Api {
            method: "GET".into(),
            path: "/x".into(),
            code: 500,
            message: "boom".into(),
        };
        assert!(
            options_read_failure("GPU", "tenant-a", &e)
                .unwrap_err()
                .has_errors()
        );
    }
}
