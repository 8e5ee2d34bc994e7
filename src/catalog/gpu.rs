//! GPU models, the resource names they appear under, and resolution of a user's spelling to the
//! resource name to send.
//!
//! # Spellings
//!
//! A user may write, case-insensitively:
//! - the short model name: `L40S`, `a100`, `H100`;
//! - the seed page's form: `nvidia.com/L40S`, `nvidia.com/A100`, `nvidia.com/H100`;
//! - a full resource name: `nvidia.com/AD102GL_L40S`, `nvidia.com/GA100_A100_PCIE_80GB`, ...
//!   (with or without the `nvidia.com/` prefix).
//!
//! The first two are *generic*: they mean "any GPU of this model", and resolve to the name of that
//! model the target cluster advertises (or, offline, to the catalog's preferred name, which is
//! Hikube's). A full resource name is *specific*: it is sent as written (in its canonical case)
//! and, when the cluster's list is known, must be on it.
//!
//! # H100 variants
//!
//! `nvidia.com/GH100_H100_SXM5_80GB` (a Cozystack default) is an alias of the H100 model, not a
//! model of its own: both are Hopper H100 cards, and a user who writes `H100` wants whichever H100
//! the cluster has. Writing the full name pins the variant.
//!
//! # Names the catalog does not know
//!
//! Kubernetes extended resources are always domain-qualified (`vendor/name`), so a bare unknown
//! name (`L4OS`) is always an error. An unknown qualified name (`nvidia.com/XYZ`) is accepted as
//! custom hardware when the cluster advertises it; offline it is accepted unverified (the caller
//! may warn) and checked again once the cluster can be asked.

use super::distance::nearest_by;

/// The vendor prefix of NVIDIA resource names.
pub const NVIDIA_PREFIX: &str = "nvidia.com/";

/// One GPU model.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct GpuModel {
    /// Short model name, e.g. `L40S`.
    pub model: &'static str,
    /// GPU architecture, e.g. `Ada Lovelace`.
    pub architecture: &'static str,
    /// Memory as published, e.g. `48 GB GDDR6`.
    pub memory: &'static str,
    /// Memory in GB.
    pub memory_gb: u32,
    /// INT8 performance in TOPS as published on the Hikube page; `None` for models the page does
    /// not list (no figure is invented).
    pub int8_tops: Option<u32>,
    /// Every full resource name this model is accepted under; the first is the preferred one
    /// (sent when the cluster cannot be asked).
    pub names: &'static [&'static str],
    /// What the model is meant for.
    pub use_case: &'static str,
    /// True for the models the Hikube GPU page lists.
    pub hikube: bool,
}

impl GpuModel {
    /// The preferred resource name (Hikube's name for Hikube's models).
    pub fn preferred_name(&self) -> &'static str {
        self.names[0]
    }

    /// The seed page's spelling, `nvidia.com/<model>`.
    pub fn seed_name(&self) -> String {
        format!("{NVIDIA_PREFIX}{}", self.model)
    }
}

/// The built-in GPU models: Hikube's three first, then Cozystack's defaults and the A400 that
/// gn1 instance types carry.
pub static GPU_MODELS: &[GpuModel] = &[
    GpuModel {
        model: "L40S",
        architecture: "Ada Lovelace",
        memory: "48 GB GDDR6",
        memory_gb: 48,
        int8_tops: Some(362),
        names: &["nvidia.com/AD102GL_L40S", "nvidia.com/L40S"],
        use_case: "inference and development",
        hikube: true,
    },
    GpuModel {
        model: "A100",
        architecture: "Ampere",
        memory: "80 GB HBM2e",
        memory_gb: 80,
        int8_tops: Some(312),
        names: &["nvidia.com/GA100_A100_PCIE_80GB", "nvidia.com/A100"],
        use_case: "standard ML training",
        hikube: true,
    },
    GpuModel {
        model: "H100",
        architecture: "Hopper",
        // As stated on the Hikube page; the resource name says 94 GB.
        memory: "80 GB HBM3",
        memory_gb: 80,
        int8_tops: Some(1979),
        names: &[
            "nvidia.com/H100_94GB",
            "nvidia.com/H100",
            "nvidia.com/GH100_H100_SXM5_80GB",
        ],
        use_case: "LLMs and exascale computing",
        hikube: true,
    },
    GpuModel {
        model: "H200",
        architecture: "Hopper",
        memory: "141 GB HBM3e",
        memory_gb: 141,
        int8_tops: None,
        names: &["nvidia.com/GH100_H200_SXM_141GB"],
        use_case: "large-model training and inference (Cozystack default)",
        hikube: false,
    },
    GpuModel {
        model: "A10",
        architecture: "Ampere",
        memory: "24 GB GDDR6",
        memory_gb: 24,
        int8_tops: None,
        names: &["nvidia.com/GA102GL_A10"],
        use_case: "inference and graphics (Cozystack default)",
        hikube: false,
    },
    GpuModel {
        model: "A400",
        architecture: "Ampere",
        memory: "4 GB GDDR6",
        memory_gb: 4,
        int8_tops: None,
        names: &["nvidia.com/A400"],
        use_case: "built into the gn1 instance types",
        hikube: false,
    },
];

/// Looks a model up by its short name (case-insensitive).
pub fn model(name: &str) -> Option<&'static GpuModel> {
    GPU_MODELS
        .iter()
        .find(|m| m.model.eq_ignore_ascii_case(name))
}

/// One GPU resource name the cluster advertises (`core.cozystack.io` `options/gpu`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OfferedGpu {
    /// The resource name, e.g. `nvidia.com/AD102GL_L40S`.
    pub resource_name: String,
    /// How many GPUs of this name one node can still give, when the cluster says.
    pub available: Option<u32>,
}

impl OfferedGpu {
    /// An offered name with an optional availability count.
    pub fn new(resource_name: impl Into<String>, available: Option<u32>) -> Self {
        OfferedGpu {
            resource_name: resource_name.into(),
            available,
        }
    }

    fn describe(&self) -> String {
        let model = model_of_resource_name(&self.resource_name)
            .map(|m| m.model.to_string())
            .unwrap_or_default();
        match (model.is_empty(), self.available) {
            (true, None) => self.resource_name.clone(),
            (true, Some(n)) => format!("{} ({n} available)", self.resource_name),
            (false, None) => format!("{} ({model})", self.resource_name),
            (false, Some(n)) => format!("{} ({model}, {n} available)", self.resource_name),
        }
    }
}

/// How a name was resolved.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Resolution {
    /// Offline: the catalog's name for the model (or the full name as written).
    Catalog,
    /// Matched against what the cluster advertises.
    Offered,
    /// Offline, not in the catalog, but domain-qualified: sent as written, to be checked when the
    /// cluster can be asked.
    Unverified,
}

/// The result of resolving a user's GPU name.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ResolvedGpu {
    /// The name as the user wrote it (keep this in state).
    pub user_name: String,
    /// The resource name to send to the API.
    pub resource_name: String,
    /// The catalog model, when known.
    pub model: Option<&'static GpuModel>,
    /// How the name was resolved.
    pub resolution: Resolution,
    /// Free GPUs of this name on one node, when the cluster says.
    pub available: Option<u32>,
    /// Near catalog names, for an [`Resolution::Unverified`] name (possible typo).
    pub suggestions: Vec<String>,
}

/// A GPU name that cannot be used.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum GpuNameError {
    /// The name is empty.
    #[error("the GPU name is empty")]
    Empty,
    /// Not a catalog name, and not advertised by the cluster.
    #[error("unknown GPU type `{name}`{}", did_you_mean(.suggestions))]
    Unknown {
        /// The name as written.
        name: String,
        /// Near names (catalog and offered), nearest first.
        suggestions: Vec<String>,
        /// What the cluster advertises, when it was asked.
        offered: Option<Vec<OfferedGpu>>,
    },
    /// A known GPU, but the cluster does not advertise it.
    #[error("GPU `{name}` is not offered by this cluster; offered: {}", offered_list(.offered))]
    NotOffered {
        /// The name as written.
        name: String,
        /// The catalog model, when known.
        model: Option<&'static GpuModel>,
        /// What the cluster advertises.
        offered: Vec<OfferedGpu>,
        /// Offered names of the same model, or near the name.
        suggestions: Vec<String>,
    },
}

fn did_you_mean(s: &[String]) -> String {
    match s {
        [] => String::new(),
        [one] => format!("; did you mean `{one}`?"),
        many => format!(
            "; did you mean one of {}?",
            many.iter()
                .map(|s| format!("`{s}`"))
                .collect::<Vec<_>>()
                .join(", ")
        ),
    }
}

fn offered_list(offered: &[OfferedGpu]) -> String {
    if offered.is_empty() {
        "none".to_string()
    } else {
        offered
            .iter()
            .map(OfferedGpu::describe)
            .collect::<Vec<_>>()
            .join(", ")
    }
}

impl GpuNameError {
    /// The one-line fix for this error.
    pub fn fix(&self) -> String {
        match self {
            GpuNameError::Empty => "Fix: write a GPU model such as L40S, A100 or H100.".to_string(),
            GpuNameError::Unknown {
                suggestions,
                offered,
                ..
            } => {
                if let Some(first) = suggestions.first() {
                    format!("Fix: write `{first}`.")
                } else if let Some(o) = offered.as_ref().and_then(|o| o.first()) {
                    format!(
                        "Fix: use one of the offered GPUs, e.g. `{}`.",
                        o.resource_name
                    )
                } else {
                    format!("Fix: use one of {}.", valid_names_text())
                }
            }
            GpuNameError::NotOffered {
                suggestions,
                offered,
                ..
            } => {
                if let Some(first) = suggestions.first() {
                    format!("Fix: write `{first}`.")
                } else if let Some(o) = offered.first() {
                    format!(
                        "Fix: choose an offered GPU such as `{}`, or ask your Hikube administrator for this model.",
                        o.resource_name
                    )
                } else {
                    "Fix: remove the GPU, or ask your Hikube administrator to enable GPU passthrough on this cluster.".to_string()
                }
            }
        }
    }
}

/// The accepted names, for error messages: the short model names, then an example full name.
pub fn valid_names_text() -> String {
    let hikube: Vec<&str> = GPU_MODELS
        .iter()
        .filter(|m| m.hikube)
        .map(|m| m.model)
        .collect();
    let others: Vec<&str> = GPU_MODELS
        .iter()
        .filter(|m| !m.hikube)
        .map(|m| m.model)
        .collect();
    format!(
        "{} (Hikube), {} (Cozystack defaults), their `nvidia.com/<model>` forms, or a full resource name such as nvidia.com/AD102GL_L40S",
        hikube.join(", "),
        others.join(", ")
    )
}

/// Splits `vendor/key`; the vendor is `None` for a bare name.
fn split(name: &str) -> (Option<&str>, &str) {
    match name.split_once('/') {
        Some((vendor, key)) => (Some(vendor), key),
        None => (None, name),
    }
}

fn is_nvidia(vendor: Option<&str>) -> bool {
    vendor.is_none_or(|v| v.eq_ignore_ascii_case("nvidia.com"))
}

/// What a spelling means to the catalog.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Spelling {
    /// Any GPU of this model.
    Generic(&'static GpuModel),
    /// This exact resource name (canonical case).
    Specific(&'static GpuModel, &'static str),
    /// Not a catalog name.
    Unknown,
}

fn classify(name: &str) -> Spelling {
    let (vendor, key) = split(name);
    if !is_nvidia(vendor) {
        return Spelling::Unknown;
    }
    for m in GPU_MODELS {
        if m.model.eq_ignore_ascii_case(key) {
            return Spelling::Generic(m);
        }
    }
    for m in GPU_MODELS {
        for full in m.names {
            if split(full).1.eq_ignore_ascii_case(key) {
                return Spelling::Specific(m, full);
            }
        }
    }
    Spelling::Unknown
}

/// The catalog model a resource name belongs to: an exact catalog name, or, for names the catalog
/// does not list (`nvidia.com/GA100_A100_SXM4_40GB`), a `_`/`-` separated part equal to a model
/// name. `None` for anything else.
pub fn model_of_resource_name(name: &str) -> Option<&'static GpuModel> {
    match classify(name) {
        Spelling::Generic(m) | Spelling::Specific(m, _) => return Some(m),
        Spelling::Unknown => {}
    }
    let (vendor, key) = split(name);
    if !is_nvidia(vendor) {
        return None;
    }
    key.split(['_', '-']).find_map(|part| {
        GPU_MODELS
            .iter()
            .find(|m| m.model.eq_ignore_ascii_case(part))
    })
}

/// Near names for `input`, in the same shape: bare inputs get short model names and bare
/// hardware names, qualified inputs get qualified names. Offered names are always qualified. The
/// part after `vendor/` is what is compared, so the prefix does not dilute the distance.
fn suggest(input: &str, offered: Option<&[OfferedGpu]>) -> Vec<String> {
    let (vendor, key) = split(input);
    let mut shown: Vec<String> = Vec::new();
    if vendor.is_none() {
        shown.extend(GPU_MODELS.iter().map(|m| m.model.to_string()));
        for m in GPU_MODELS {
            shown.extend(m.names.iter().map(|n| split(n).1.to_string()));
        }
    } else {
        shown.extend(GPU_MODELS.iter().map(GpuModel::seed_name));
        for m in GPU_MODELS {
            shown.extend(m.names.iter().map(|n| (*n).to_string()));
        }
    }
    if let Some(o) = offered {
        shown.extend(o.iter().map(|g| g.resource_name.clone()));
    }
    nearest_by(key, shown.iter().map(|s| (split(s).1, s.as_str())), 3)
}

/// Offered names of `m`, best first: catalog order of the model's names, then the others by name.
fn offered_of_model<'a>(m: &GpuModel, offered: &'a [OfferedGpu]) -> Vec<&'a OfferedGpu> {
    let mut of: Vec<&OfferedGpu> = offered
        .iter()
        .filter(|o| model_of_resource_name(&o.resource_name).is_some_and(|om| om.model == m.model))
        .collect();
    let rank = |o: &OfferedGpu| {
        m.names
            .iter()
            .position(|n| n.eq_ignore_ascii_case(&o.resource_name))
            .unwrap_or(usize::MAX)
    };
    of.sort_by(|a, b| {
        rank(a)
            .cmp(&rank(b))
            .then_with(|| a.resource_name.cmp(&b.resource_name))
    });
    of
}

fn find_offered<'a>(name: &str, offered: &'a [OfferedGpu]) -> Option<&'a OfferedGpu> {
    offered
        .iter()
        .find(|o| o.resource_name.eq_ignore_ascii_case(name))
}

/// Resolves the name a user wrote to the resource name to send.
///
/// `offered` is the cluster's list (`options/gpu`), or `None` when the cluster cannot be asked
/// (offline validation, or a Cozystack older than v1.5).
pub fn resolve_gpu(
    user_name: &str,
    offered: Option<&[OfferedGpu]>,
) -> Result<ResolvedGpu, GpuNameError> {
    if user_name.trim().is_empty() {
        return Err(GpuNameError::Empty);
    }
    let done = |resource_name: String,
                model: Option<&'static GpuModel>,
                resolution: Resolution,
                available: Option<u32>| ResolvedGpu {
        user_name: user_name.to_string(),
        resource_name,
        model,
        resolution,
        available,
        suggestions: Vec::new(),
    };
    let spelling = classify(user_name);
    match (spelling, offered) {
        (Spelling::Generic(m), None) => Ok(done(
            m.preferred_name().to_string(),
            Some(m),
            Resolution::Catalog,
            None,
        )),
        (Spelling::Specific(m, full), None) => {
            Ok(done(full.to_string(), Some(m), Resolution::Catalog, None))
        }
        (Spelling::Generic(m), Some(list)) => match offered_of_model(m, list).first() {
            Some(o) => Ok(done(
                o.resource_name.clone(),
                Some(m),
                Resolution::Offered,
                o.available,
            )),
            None => Err(GpuNameError::NotOffered {
                name: user_name.to_string(),
                model: Some(m),
                offered: list.to_vec(),
                suggestions: Vec::new(),
            }),
        },
        (Spelling::Specific(m, full), Some(list)) => match find_offered(full, list) {
            Some(o) => Ok(done(
                o.resource_name.clone(),
                Some(m),
                Resolution::Offered,
                o.available,
            )),
            None => Err(GpuNameError::NotOffered {
                name: user_name.to_string(),
                model: Some(m),
                offered: list.to_vec(),
                // The same model under another name, if the cluster has it; else the short name.
                suggestions: if offered_of_model(m, list).is_empty() {
                    Vec::new()
                } else {
                    vec![m.model.to_string()]
                },
            }),
        },
        (Spelling::Unknown, Some(list)) => {
            let (vendor, _) = split(user_name);
            let direct = find_offered(user_name, list).or_else(|| {
                vendor
                    .is_none()
                    .then(|| find_offered(&format!("{NVIDIA_PREFIX}{user_name}"), list))
                    .flatten()
            });
            match direct {
                Some(o) => Ok(done(
                    o.resource_name.clone(),
                    model_of_resource_name(&o.resource_name),
                    Resolution::Offered,
                    o.available,
                )),
                None => Err(GpuNameError::Unknown {
                    name: user_name.to_string(),
                    suggestions: suggest(user_name, Some(list)),
                    offered: Some(list.to_vec()),
                }),
            }
        }
        (Spelling::Unknown, None) => {
            let (vendor, key) = split(user_name);
            if vendor.is_some_and(|v| !v.is_empty()) && !key.is_empty() {
                let mut r = done(
                    user_name.to_string(),
                    model_of_resource_name(user_name),
                    Resolution::Unverified,
                    None,
                );
                r.suggestions = suggest(user_name, None);
                Ok(r)
            } else {
                Err(GpuNameError::Unknown {
                    name: user_name.to_string(),
                    suggestions: suggest(user_name, None),
                    offered: None,
                })
            }
        }
    }
}

/// True when `api_name` (read back from the API) is what `user_spelling` (from state or config)
/// resolves to on some cluster: use it on read to keep the user's spelling and avoid a diff.
pub fn same_gpu(user_spelling: &str, api_name: &str) -> bool {
    if user_spelling.eq_ignore_ascii_case(api_name) {
        return true;
    }
    match classify(user_spelling) {
        Spelling::Generic(m) => {
            model_of_resource_name(api_name).is_some_and(|a| a.model == m.model)
        }
        Spelling::Specific(_, full) => full.eq_ignore_ascii_case(api_name),
        Spelling::Unknown => {
            // A bare custom name the cluster advertises under nvidia.com/.
            split(user_spelling).0.is_none()
                && api_name.eq_ignore_ascii_case(&format!("{NVIDIA_PREFIX}{user_spelling}"))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn hikube_offered() -> Vec<OfferedGpu> {
        vec![
            OfferedGpu::new("nvidia.com/AD102GL_L40S", Some(8)),
            OfferedGpu::new("nvidia.com/GA100_A100_PCIE_80GB", Some(4)),
            OfferedGpu::new("nvidia.com/H100_94GB", None),
        ]
    }

    #[test]
    fn catalog_is_consistent() {
        for m in GPU_MODELS {
            assert!(!m.names.is_empty(), "{}", m.model);
            for n in m.names {
                assert!(n.starts_with(NVIDIA_PREFIX), "{n}");
                assert_eq!(
                    model_of_resource_name(n).map(|x| x.model),
                    Some(m.model),
                    "{n}"
                );
            }
        }
        let l40s = model("l40s").unwrap();
        assert_eq!(
            (l40s.architecture, l40s.memory, l40s.int8_tops),
            ("Ada Lovelace", "48 GB GDDR6", Some(362))
        );
        let a100 = model("A100").unwrap();
        assert_eq!(
            (a100.architecture, a100.memory, a100.int8_tops),
            ("Ampere", "80 GB HBM2e", Some(312))
        );
        let h100 = model("H100").unwrap();
        assert_eq!(
            (h100.architecture, h100.memory, h100.int8_tops),
            ("Hopper", "80 GB HBM3", Some(1979))
        );
    }

    #[test]
    fn offline_resolves_all_three_spellings_to_hikube_names() {
        let cases = [
            ("L40S", "nvidia.com/AD102GL_L40S"),
            ("l40s", "nvidia.com/AD102GL_L40S"),
            ("nvidia.com/L40S", "nvidia.com/AD102GL_L40S"),
            ("nvidia.com/AD102GL_L40S", "nvidia.com/AD102GL_L40S"),
            ("AD102GL_L40S", "nvidia.com/AD102GL_L40S"),
            ("a100", "nvidia.com/GA100_A100_PCIE_80GB"),
            ("nvidia.com/A100", "nvidia.com/GA100_A100_PCIE_80GB"),
            (
                "NVIDIA.COM/ga100_a100_pcie_80gb",
                "nvidia.com/GA100_A100_PCIE_80GB",
            ),
            ("H100", "nvidia.com/H100_94GB"),
            ("nvidia.com/H100", "nvidia.com/H100_94GB"),
            ("nvidia.com/H100_94GB", "nvidia.com/H100_94GB"),
            (
                "nvidia.com/GH100_H100_SXM5_80GB",
                "nvidia.com/GH100_H100_SXM5_80GB",
            ),
            ("H200", "nvidia.com/GH100_H200_SXM_141GB"),
            ("nvidia.com/H200", "nvidia.com/GH100_H200_SXM_141GB"),
            ("A10", "nvidia.com/GA102GL_A10"),
            ("A400", "nvidia.com/A400"),
        ];
        for (input, want) in cases {
            let r = resolve_gpu(input, None).unwrap_or_else(|e| panic!("{input}: {e}"));
            assert_eq!(r.resource_name, want, "{input}");
            assert_eq!(r.user_name, input);
            assert_eq!(r.resolution, Resolution::Catalog);
        }
    }

    #[test]
    fn unknown_bare_name_suggests_the_near_miss() {
        let err = resolve_gpu("L4OS", None).unwrap_err();
        assert_eq!(
            err.to_string(),
            "unknown GPU type `L4OS`; did you mean `L40S`?"
        );
        assert_eq!(err.fix(), "Fix: write `L40S`.");
        let err = resolve_gpu("A1000", None).unwrap_err();
        match &err {
            GpuNameError::Unknown { suggestions, .. } => assert_eq!(suggestions[0], "A100"),
            other => panic!("{other:?}"),
        }
        let err = resolve_gpu("banana", None).unwrap_err();
        assert_eq!(err.to_string(), "unknown GPU type `banana`");
        assert!(
            err.fix().contains("L40S, A100, H100 (Hikube)"),
            "{}",
            err.fix()
        );
        assert_eq!(resolve_gpu("", None).unwrap_err(), GpuNameError::Empty);
        assert_eq!(resolve_gpu("  ", None).unwrap_err(), GpuNameError::Empty);
    }

    #[test]
    fn offline_unknown_qualified_name_is_unverified_with_suggestions() {
        let r = resolve_gpu("nvidia.com/L4OS", None).unwrap();
        assert_eq!(r.resolution, Resolution::Unverified);
        assert_eq!(r.resource_name, "nvidia.com/L4OS");
        assert_eq!(r.suggestions, vec!["nvidia.com/L40S"]);
        let r = resolve_gpu("example.com/fpga", None).unwrap();
        assert_eq!(r.resolution, Resolution::Unverified);
        assert!(r.model.is_none());
        assert!(r.suggestions.is_empty());
        // A non-catalog A100 variant is recognised as an A100.
        let r = resolve_gpu("nvidia.com/GA100_A100_SXM4_40GB", None).unwrap();
        assert_eq!(r.model.map(|m| m.model), Some("A100"));
    }

    #[test]
    fn online_resolves_to_the_offered_name() {
        let offered = hikube_offered();
        let r = resolve_gpu("nvidia.com/L40S", Some(&offered)).unwrap();
        assert_eq!(r.resource_name, "nvidia.com/AD102GL_L40S");
        assert_eq!(r.resolution, Resolution::Offered);
        assert_eq!(r.available, Some(8));
        // A cluster that advertises the SXM H100 only: the generic name follows it.
        let sxm = vec![OfferedGpu::new("nvidia.com/GH100_H100_SXM5_80GB", Some(2))];
        assert_eq!(
            resolve_gpu("H100", Some(&sxm)).unwrap().resource_name,
            "nvidia.com/GH100_H100_SXM5_80GB"
        );
        // Both: Hikube's name wins.
        let both = vec![
            OfferedGpu::new("nvidia.com/GH100_H100_SXM5_80GB", None),
            OfferedGpu::new("nvidia.com/H100_94GB", None),
        ];
        assert_eq!(
            resolve_gpu("h100", Some(&both)).unwrap().resource_name,
            "nvidia.com/H100_94GB"
        );
        // A non-catalog A100 the cluster advertises satisfies the generic name.
        let other = vec![OfferedGpu::new("nvidia.com/GA100_A100_SXM4_40GB", None)];
        assert_eq!(
            resolve_gpu("A100", Some(&other)).unwrap().resource_name,
            "nvidia.com/GA100_A100_SXM4_40GB"
        );
        // Offered names match case-insensitively and come back in the cluster's spelling.
        assert_eq!(
            resolve_gpu("nvidia.com/h100_94gb", Some(&offered))
                .unwrap()
                .resource_name,
            "nvidia.com/H100_94GB"
        );
    }

    #[test]
    fn online_not_offered_lists_what_is() {
        let offered = hikube_offered();
        let err = resolve_gpu("nvidia.com/H200", Some(&offered)).unwrap_err();
        assert_eq!(
            err.to_string(),
            "GPU `nvidia.com/H200` is not offered by this cluster; offered: \
             nvidia.com/AD102GL_L40S (L40S, 8 available), \
             nvidia.com/GA100_A100_PCIE_80GB (A100, 4 available), nvidia.com/H100_94GB (H100)"
        );
        assert!(
            err.fix().contains("nvidia.com/AD102GL_L40S"),
            "{}",
            err.fix()
        );
        // A specific name whose model is offered under another name.
        let sxm = vec![OfferedGpu::new("nvidia.com/GH100_H100_SXM5_80GB", None)];
        let err = resolve_gpu("nvidia.com/H100_94GB", Some(&sxm)).unwrap_err();
        assert_eq!(err.fix(), "Fix: write `H100`.");
        // Nothing offered at all.
        let err = resolve_gpu("L40S", Some(&[])).unwrap_err();
        assert!(err.to_string().ends_with("offered: none"), "{err}");
        assert!(err.fix().contains("administrator"));
    }

    #[test]
    fn online_custom_advertised_names_are_accepted() {
        let offered = vec![
            OfferedGpu::new("nvidia.com/XYZ", Some(1)),
            OfferedGpu::new("nvidia.com/AD102GL_L40S", None),
        ];
        let r = resolve_gpu("nvidia.com/XYZ", Some(&offered)).unwrap();
        assert_eq!(r.resource_name, "nvidia.com/XYZ");
        assert!(r.model.is_none());
        assert_eq!(r.available, Some(1));
        assert_eq!(
            resolve_gpu("XYZ", Some(&offered)).unwrap().resource_name,
            "nvidia.com/XYZ"
        );
        let err = resolve_gpu("nvidia.com/XYY", Some(&offered)).unwrap_err();
        match &err {
            GpuNameError::Unknown { suggestions, .. } => {
                assert_eq!(
                    suggestions.first().map(String::as_str),
                    Some("nvidia.com/XYZ")
                )
            }
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn same_gpu_keeps_the_users_spelling() {
        assert!(same_gpu("L40S", "nvidia.com/AD102GL_L40S"));
        assert!(same_gpu(
            "nvidia.com/a100",
            "nvidia.com/GA100_A100_PCIE_80GB"
        ));
        assert!(same_gpu("H100", "nvidia.com/GH100_H100_SXM5_80GB"));
        assert!(!same_gpu(
            "nvidia.com/H100_94GB",
            "nvidia.com/GH100_H100_SXM5_80GB"
        ));
        assert!(!same_gpu("L40S", "nvidia.com/GA100_A100_PCIE_80GB"));
        assert!(!same_gpu("A10", "nvidia.com/GA100_A100_PCIE_80GB"));
        assert!(same_gpu("nvidia.com/XYZ", "nvidia.com/xyz"));
        assert!(same_gpu("XYZ", "nvidia.com/XYZ"));
    }
}
