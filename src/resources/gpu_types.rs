//! `hikube_gpu_types`: the GPU models the provider knows, merged with what
//! the cluster's nodes advertise (`options/gpu`, Cozystack v1.5 and later).
//!
//! Without the cluster's list (older Cozystack: the endpoint answers 404) the
//! data source still answers from the catalog, with `offered` and `available`
//! left null.

use std::sync::Arc;

use async_trait::async_trait;

use crate::catalog::{
    self, GPU_MODELS, GpuModel, GpuNameError, OfferedGpu, model_of_resource_name, resolve_gpu,
};
use crate::plugin::diag::{AttrPath, Diagnostic, Diagnostics};
use crate::plugin::framework::{Ctx, DataSource, StateResult};
use crate::plugin::schema::{Attribute, Block, Nesting, Schema};
use crate::plugin::value::{Type, Value};
use crate::provider::SharedSession;

use super::common;
use super::instance_types::{Source, options_read_failure, sentence, validate_namespace};

/// The data source.
pub struct GpuTypes {
    session: SharedSession,
}

impl GpuTypes {
    /// A data source using the provider's session.
    pub fn new(session: &SharedSession) -> Arc<Self> {
        Arc::new(Self {
            session: session.clone(),
        })
    }
}

/// One row of `gpus`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GpuRow {
    /// Short model name (`L40S`), or for hardware the catalog does not know,
    /// the resource name without its vendor prefix.
    pub model: String,
    /// The catalog entry, when the model is known.
    pub catalog: Option<&'static GpuModel>,
    /// The resource name a model name resolves to here.
    pub resource_name: String,
    /// Every resource name of this model the cluster advertises (`None` when
    /// the cluster cannot tell).
    pub offered_names: Option<Vec<String>>,
    /// Free GPUs of `resource_name` on one node, when the cluster says.
    pub available: Option<u32>,
    /// Whether the cluster advertises the model (`None` when it cannot tell).
    pub offered: Option<bool>,
}

/// The rows: every catalog model in catalog order (Hikube's first), then the
/// advertised resource names the catalog cannot place, by name.
pub fn gpu_rows(offered: Option<&[OfferedGpu]>) -> Vec<GpuRow> {
    let mut rows: Vec<GpuRow> = GPU_MODELS
        .iter()
        .map(|m| {
            let Some(list) = offered else {
                return GpuRow {
                    model: m.model.to_string(),
                    catalog: Some(m),
                    resource_name: m.preferred_name().to_string(),
                    offered_names: None,
                    available: None,
                    offered: None,
                };
            };
            let of_model: Vec<String> = list
                .iter()
                .filter(|o| {
                    model_of_resource_name(&o.resource_name).is_some_and(|om| om.model == m.model)
                })
                .map(|o| o.resource_name.clone())
                .collect();
            match resolve_gpu(m.model, Some(list)) {
                Ok(r) => GpuRow {
                    model: m.model.to_string(),
                    catalog: Some(m),
                    resource_name: r.resource_name,
                    offered_names: Some(of_model),
                    available: r.available,
                    offered: Some(true),
                },
                Err(_) => GpuRow {
                    model: m.model.to_string(),
                    catalog: Some(m),
                    resource_name: m.preferred_name().to_string(),
                    offered_names: Some(of_model),
                    available: Some(0),
                    offered: Some(false),
                },
            }
        })
        .collect();
    if let Some(list) = offered {
        let mut extra: Vec<&OfferedGpu> = list
            .iter()
            .filter(|o| model_of_resource_name(&o.resource_name).is_none())
            .collect();
        extra.sort_by(|a, b| a.resource_name.cmp(&b.resource_name));
        extra.dedup_by(|a, b| a.resource_name == b.resource_name);
        rows.extend(extra.into_iter().map(|o| {
            GpuRow {
                model: o
                    .resource_name
                    .rsplit('/')
                    .next()
                    .unwrap_or(&o.resource_name)
                    .to_string(),
                catalog: None,
                resource_name: o.resource_name.clone(),
                offered_names: Some(vec![o.resource_name.clone()]),
                available: o.available,
                offered: Some(true),
            }
        }));
    }
    rows
}

/// Whether `row` is what the `model` filter asks for: a model name or any
/// spelling of it (`L40S`, `nvidia.com/L40S`, `AD102GL_L40S`), or an exact
/// resource name the cluster advertises.
pub fn row_matches(row: &GpuRow, filter: &str) -> bool {
    if let Some(m) = model_of_resource_name(filter) {
        return row.model == m.model;
    }
    let qualified = format!("{}{filter}", catalog::gpu::NVIDIA_PREFIX);
    let same = |n: &str| {
        n.eq_ignore_ascii_case(filter)
            || (!filter.contains('/') && n.eq_ignore_ascii_case(&qualified))
    };
    row.model.eq_ignore_ascii_case(filter)
        || same(&row.resource_name)
        || row.offered_names.iter().flatten().any(|n| same(n))
}

fn num(n: Option<u32>) -> Value {
    n.map_or(Value::Null, |n| Value::number_i64(i64::from(n)))
}

fn str_or_null(s: Option<&str>) -> Value {
    s.map_or(Value::Null, Value::string)
}

fn strings(v: impl IntoIterator<Item = String>) -> Value {
    Value::List(v.into_iter().map(Value::string).collect())
}

impl GpuRow {
    /// The row as a Terraform object.
    pub fn to_value(&self) -> Value {
        let c = self.catalog;
        let names = match c {
            Some(m) => strings(
                std::iter::once(m.model.to_string())
                    .chain(std::iter::once(m.seed_name()))
                    .chain(m.names.iter().map(|n| n.to_string()))
                    .fold(Vec::new(), |mut v: Vec<String>, n| {
                        if !v.contains(&n) {
                            v.push(n);
                        }
                        v
                    }),
            ),
            None => strings([self.resource_name.clone()]),
        };
        Value::object([
            ("model", Value::string(self.model.clone())),
            ("architecture", str_or_null(c.map(|m| m.architecture))),
            ("memory", str_or_null(c.map(|m| m.memory))),
            ("memory_gb", num(c.map(|m| m.memory_gb))),
            ("int8_tops", num(c.and_then(|m| m.int8_tops))),
            ("use_case", str_or_null(c.map(|m| m.use_case))),
            ("hikube", Value::bool(c.is_some_and(|m| m.hikube))),
            ("names", names),
            ("resource_name", Value::string(self.resource_name.clone())),
            (
                "offered_names",
                self.offered_names.clone().map_or(Value::Null, strings),
            ),
            ("available", num(self.available)),
            ("offered", self.offered.map_or(Value::Null, Value::bool)),
        ])
    }
}

fn gpu_attributes() -> Vec<Attribute> {
    vec![
        Attribute::string("model").computed().description(
            "Short model name, e.g. `L40S`. For a GPU the cluster advertises but the catalog does not know, the resource name without its `vendor/` prefix.",
        ),
        Attribute::string("architecture")
            .computed()
            .description("GPU architecture, e.g. `Ada Lovelace`; null for hardware the catalog does not know."),
        Attribute::string("memory")
            .computed()
            .description("GPU memory as published, e.g. `48 GB GDDR6`; null for hardware the catalog does not know."),
        Attribute::number("memory_gb")
            .computed()
            .description("GPU memory in GB; null for hardware the catalog does not know."),
        Attribute::number("int8_tops").computed().description(
            "INT8 performance in TOPS as Hikube publishes it; null for models Hikube does not list (no figure is invented).",
        ),
        Attribute::string("use_case").computed().description("What the model is meant for."),
        Attribute::bool("hikube")
            .computed()
            .description("True for the models on Hikube's GPU page (L40S, A100, H100)."),
        Attribute::typed("names", Type::list(Type::String)).computed().description(
            "Every spelling `gpus[*].name` accepts for this model (case-insensitive): the short name, `nvidia.com/<model>`, and each full resource name. The names without `nvidia.com/` are accepted too.",
        ),
        Attribute::string("resource_name").computed().description(
            "The resource name a model name resolves to: what the cluster advertises for this model when it can tell, else the catalog's preferred name (Hikube's).",
        ),
        Attribute::typed("offered_names", Type::list(Type::String)).computed().description(
            "Every resource name of this model the cluster advertises (several when it has variants, e.g. two H100 cards); null when the cluster cannot tell.",
        ),
        Attribute::number("available").computed().description(
            "Free GPUs of `resource_name` on one node, as the cluster reports it (0 when the model is not offered); null when the cluster cannot tell.",
        ),
        Attribute::bool("offered").computed().description(
            "Whether the cluster advertises this model; null when the cluster cannot tell (Cozystack before v1.5).",
        ),
    ]
}

/// The schema.
pub fn schema() -> Schema {
    Schema::new(
        Block::new(
            "The GPU models you can put in `gpus[*].name` of `hikube_gpu_vm` and `hikube_gpu_nodegroup`: the provider's catalog \
             (architecture, memory, INT8 performance, accepted names), merged with the GPUs the cluster advertises when it can \
             tell (Cozystack v1.5 and later). See the GPU sizing guide.",
        )
        .attr(Attribute::string("id").computed().description("The namespace the list was read for."))
        .attr(Attribute::string("namespace").optional().description(
            "Tenant namespace whose offer to read. Defaults to the provider's `namespace`.",
        ))
        .attr(Attribute::string("model").optional().description(
            "Only this model: a short name (`L40S`), any accepted spelling (`nvidia.com/L40S`, `nvidia.com/AD102GL_L40S`), or a resource name the cluster advertises. Case-insensitive.",
        ))
        .attr(Attribute::string("source").computed().description(
            "`cluster` when the cluster's GPU list was read and merged in, `catalog` when the cluster does not publish one.",
        ))
        .attr(
            Attribute::nested("gpus", Nesting::List, gpu_attributes())
                .computed()
                .description("The GPU models, Hikube's first, then the other catalog models, then advertised GPUs the catalog does not know."),
        ),
    )
}

/// Offline checks of the configuration.
pub fn validate(config: &Value) -> Diagnostics {
    let mut d = validate_namespace(config.get("namespace"));
    if let Some(m) = config.get("model").as_str() {
        match resolve_gpu(m, None) {
            Ok(_) => {}
            Err(e @ (GpuNameError::Empty | GpuNameError::Unknown { .. })) => d.push(
                Diagnostic::error(
                    "Unknown GPU type",
                    format!(
                        "{} Accepted: {}. {}",
                        sentence(&e.to_string()),
                        catalog::gpu::valid_names_text(),
                        e.fix()
                    ),
                )
                .at(AttrPath::root("model")),
            ),
            Err(GpuNameError::NotOffered { .. }) => {}
        }
    }
    d
}

#[async_trait]
impl DataSource for GpuTypes {
    fn type_name(&self) -> &'static str {
        "hikube_gpu_types"
    }

    fn schema(&self) -> Schema {
        schema()
    }

    fn validate(&self, config: &Value) -> Diagnostics {
        validate(config)
    }

    async fn read(&self, _ctx: &Ctx, config: &Value) -> StateResult {
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
        let offered = match common::read_gpu_options(client, &ns).await {
            Ok(o) => o,
            Err(e) => match options_read_failure("GPU", &ns, &e) {
                Ok(warning) => {
                    diagnostics.push(warning);
                    None
                }
                Err(d) => return StateResult::failed(d),
            },
        };
        let source = if offered.is_some() {
            Source::Cluster
        } else {
            Source::Catalog
        };
        let filter = config.get("model").as_str();
        let rows: Vec<Value> = gpu_rows(offered.as_deref())
            .iter()
            .filter(|r| filter.is_none_or(|f| row_matches(r, f)))
            .map(GpuRow::to_value)
            .collect();
        let mut state = config.as_object().cloned().unwrap_or_default();
        state.insert("id".into(), Value::string(ns));
        state.insert("source".into(), Value::string(source.as_str()));
        state.insert("gpus".into(), Value::List(rows));
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

    fn offered() -> Vec<OfferedGpu> {
        vec![
            OfferedGpu::new("nvidia.com/AD102GL_L40S", Some(2)),
            OfferedGpu::new("nvidia.com/GH100_H100_SXM5_80GB", Some(1)),
            OfferedGpu::new("nvidia.com/H100_94GB", Some(4)),
            OfferedGpu::new("nvidia.com/GA100_A100_SXM4_40GB", None),
            OfferedGpu::new("amd.com/MI300X", Some(8)),
        ]
    }

    fn row<'a>(rows: &'a [GpuRow], model: &str) -> &'a GpuRow {
        rows.iter()
            .find(|r| r.model == model)
            .unwrap_or_else(|| panic!("{model} missing"))
    }

    #[test]
    fn catalog_only_when_the_cluster_cannot_tell() {
        let rows = gpu_rows(None);
        assert_eq!(rows.len(), GPU_MODELS.len());
        assert_eq!(
            rows.iter()
                .map(|r| r.model.as_str())
                .take(3)
                .collect::<Vec<_>>(),
            ["L40S", "A100", "H100"]
        );
        let l40s = row(&rows, "L40S");
        assert_eq!(l40s.resource_name, "nvidia.com/AD102GL_L40S");
        assert_eq!(
            (l40s.offered, l40s.available, l40s.offered_names.clone()),
            (None, None, None)
        );
        let v = l40s.to_value();
        assert_eq!(v.get("int8_tops").as_i64(), Some(362));
        assert_eq!(v.get("architecture").as_str(), Some("Ada Lovelace"));
        let names: Vec<&str> = v
            .get("names")
            .as_list()
            .unwrap()
            .iter()
            .filter_map(Value::as_str)
            .collect();
        assert_eq!(
            names,
            ["L40S", "nvidia.com/L40S", "nvidia.com/AD102GL_L40S"]
        );
        assert!(
            row(&rows, "H200").to_value().get("int8_tops").is_null(),
            "no invented figure"
        );
    }

    #[test]
    fn cluster_list_is_merged() {
        let o = offered();
        let rows = gpu_rows(Some(&o));
        let l40s = row(&rows, "L40S");
        assert_eq!((l40s.offered, l40s.available), (Some(true), Some(2)));
        // Hikube's H100 name wins over the SXM5 variant; both are listed.
        let h100 = row(&rows, "H100");
        assert_eq!(h100.resource_name, "nvidia.com/H100_94GB");
        assert_eq!(h100.available, Some(4));
        assert_eq!(
            h100.offered_names.as_deref(),
            Some(
                &[
                    "nvidia.com/GH100_H100_SXM5_80GB".to_string(),
                    "nvidia.com/H100_94GB".to_string()
                ][..]
            )
        );
        // A part of the name is the model: still an A100.
        let a100 = row(&rows, "A100");
        assert_eq!(
            (a100.resource_name.as_str(), a100.offered, a100.available),
            ("nvidia.com/GA100_A100_SXM4_40GB", Some(true), None)
        );
        let h200 = row(&rows, "H200");
        assert_eq!(
            (h200.offered, h200.available, h200.resource_name.as_str()),
            (Some(false), Some(0), "nvidia.com/GH100_H200_SXM_141GB")
        );
        // Unknown hardware the cluster offers gets a row of its own, last.
        let last = rows.last().unwrap();
        assert_eq!(
            (
                last.model.as_str(),
                last.resource_name.as_str(),
                last.available
            ),
            ("MI300X", "amd.com/MI300X", Some(8))
        );
        let v = last.to_value();
        assert!(v.get("architecture").is_null() && v.get("memory_gb").is_null());
        assert_eq!(v.get("hikube").as_bool(), Some(false));
        assert_eq!(rows.len(), GPU_MODELS.len() + 1);
    }

    #[test]
    fn model_filter_accepts_every_spelling() {
        let o = offered();
        let rows = gpu_rows(Some(&o));
        let pick = |f: &str| {
            rows.iter()
                .filter(|r| row_matches(r, f))
                .map(|r| r.model.clone())
                .collect::<Vec<_>>()
        };
        for f in [
            "L40S",
            "l40s",
            "nvidia.com/L40S",
            "nvidia.com/AD102GL_L40S",
            "AD102GL_L40S",
        ] {
            assert_eq!(pick(f), ["L40S"], "{f}");
        }
        assert_eq!(pick("nvidia.com/GH100_H100_SXM5_80GB"), ["H100"]);
        assert_eq!(pick("amd.com/MI300X"), ["MI300X"]);
        assert_eq!(pick("MI300X"), ["MI300X"]);
        assert!(pick("nvidia.com/NOPE").is_empty());
    }

    #[test]
    fn validation_of_the_model_filter() {
        let cfg =
            |m: &str| Value::object([("model", Value::string(m)), ("namespace", Value::Null)]);
        let d = validate(&cfg("L4OS"));
        assert_eq!(d.0.len(), 1, "{d:?}");
        assert_eq!(d.0[0].summary, "Unknown GPU type");
        assert_eq!(d.0[0].attribute, Some(AttrPath::root("model")));
        assert!(
            d.0[0].detail.contains("did you mean `L40S`"),
            "{}",
            d.0[0].detail
        );
        assert!(
            d.0[0].detail.contains("Fix: write `L40S`."),
            "{}",
            d.0[0].detail
        );
        assert!(validate(&cfg("a100")).is_empty());
        assert!(
            validate(&cfg("nvidia.com/CUSTOM_X")).is_empty(),
            "may be the cluster's own"
        );
        assert!(validate(&Value::object([("model", Value::unknown())])).is_empty());
        assert!(validate(&cfg("")).has_errors());
    }
}
