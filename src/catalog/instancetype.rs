//! Instance types: the built-in table (KubeVirt common-instancetypes plus Hikube's s1) and the
//! cluster's own list, which overrides and extends it.
//!
//! Sources: kubevirt/common-instancetypes `instancetypes/<series>/1/sizes.yaml` at 7c1e305b6d5a
//! (gn1 from the last commit that still had it; Cozystack still ships it), and Hikube's
//! documentation for s1. Hikube writes s1 memory with decimal `G` (`16G` = 16 * 10^9 bytes), not
//! `Gi`; the table keeps what the documentation says.

use std::collections::BTreeMap;

use super::distance::nearest;
use super::quantity::format_units;

const KI: u128 = 1 << 10;
const MI: u128 = KI << 10;
const GI: u128 = MI << 10;
const G: u128 = 1_000_000_000;

/// The GPU each gn1 instance type carries.
pub const GN1_GPU: &str = "nvidia.com/A400";

/// One instance type.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct InstanceType {
    /// Full name, e.g. `u1.2xlarge`.
    pub name: String,
    /// Series, the part before the dot, e.g. `u1`.
    pub series: String,
    /// Guest vCPUs.
    pub vcpu: u32,
    /// Guest memory in bytes.
    pub memory_bytes: u128,
    /// The GPU resource name built into the type (gn1), if any.
    pub gpu: Option<String>,
}

impl InstanceType {
    /// A type from its name, vCPUs and memory; the series is taken from the name.
    pub fn new(name: impl Into<String>, vcpu: u32, memory_bytes: u128) -> Self {
        let name = name.into();
        InstanceType {
            series: series_of(&name).to_string(),
            name,
            vcpu,
            memory_bytes,
            gpu: None,
        }
    }

    /// The same type with a built-in GPU.
    pub fn with_gpu(mut self, gpu: impl Into<String>) -> Self {
        self.gpu = Some(gpu.into());
        self
    }

    /// Memory as a quantity string (`32Gi`, `16G`).
    pub fn memory_text(&self) -> String {
        format_units(self.memory_bytes)
    }

    /// `u1.8xlarge (32 vCPU, 128Gi)`.
    pub fn describe(&self) -> String {
        format!("{} ({} vCPU, {})", self.name, self.vcpu, self.memory_text())
    }
}

/// The series of an instance type name (`u1.2xlarge` -> `u1`); the whole name if it has no dot.
pub fn series_of(name: &str) -> &str {
    name.split_once('.').map_or(name, |(s, _)| s)
}

/// (size, vCPU, memory in bytes)
type Size = (&'static str, u32, u128);

const U1_SIZES: &[Size] = &[
    ("nano", 1, 512 * MI),
    ("micro", 1, GI),
    ("small", 1, 2 * GI),
    ("medium", 1, 4 * GI),
    ("2xmedium", 2, 4 * GI),
    ("large", 2, 8 * GI),
    ("xlarge", 4, 16 * GI),
    ("2xlarge", 8, 32 * GI),
    ("4xlarge", 16, 64 * GI),
    ("8xlarge", 32, 128 * GI),
];

const CX1_SIZES: &[Size] = &[
    ("medium", 1, 2 * GI),
    ("large", 2, 4 * GI),
    ("xlarge", 4, 8 * GI),
    ("2xlarge", 8, 16 * GI),
    ("4xlarge", 16, 32 * GI),
    ("8xlarge", 32, 64 * GI),
];

const M1_SIZES: &[Size] = &[
    ("large", 2, 16 * GI),
    ("xlarge", 4, 32 * GI),
    ("2xlarge", 8, 64 * GI),
    ("4xlarge", 16, 128 * GI),
    ("8xlarge", 32, 256 * GI),
];

const N1_SIZES: &[Size] = &[
    ("medium", 4, 4 * GI),
    ("large", 4, 8 * GI),
    ("xlarge", 8, 16 * GI),
    ("2xlarge", 16, 32 * GI),
    ("4xlarge", 32, 64 * GI),
    ("8xlarge", 64, 128 * GI),
];

const GN1_SIZES: &[Size] = &[
    ("xlarge", 4, 16 * GI),
    ("2xlarge", 8, 32 * GI),
    ("4xlarge", 16, 64 * GI),
    ("8xlarge", 32, 128 * GI),
];

const S1_SIZES: &[Size] = &[
    ("small", 1, 2 * G),
    ("medium", 2, 4 * G),
    ("large", 4, 8 * G),
    ("xlarge", 8, 16 * G),
    ("3large", 12, 24 * G),
    ("2xlarge", 16, 32 * G),
    ("3xlarge", 24, 48 * G),
    ("4xlarge", 32, 64 * G),
    ("8xlarge", 64, 128 * G),
];

/// A short description of each built-in series.
pub const SERIES: &[(&str, &str)] = &[
    ("u1", "universal, 1:4 vCPU:memory"),
    (
        "o1",
        "overcommitted u1 (50% memory overcommit), no 2xmedium",
    ),
    (
        "cx1",
        "compute exclusive, dedicated vCPUs, 1:2, hugepages (2Mi; `1gi` variants use 1Gi pages)",
    ),
    (
        "m1",
        "memory intensive, 1:8, hugepages (`1gi` variants use 1Gi pages)",
    ),
    ("n1", "network (DPDK), dedicated vCPUs"),
    ("rt1", "realtime, u1 sizes from micro"),
    ("d1", "dedicated vCPUs, u1 sizes"),
    ("gn1", "GPU: each size carries one nvidia.com/A400"),
    ("s1", "Hikube standard, 1:2, memory in decimal G"),
];

fn push_series(
    out: &mut BTreeMap<String, InstanceType>,
    series: &str,
    sizes: &[Size],
    skip: &[&str],
    suffix: &str,
    gpu: Option<&str>,
) {
    for (size, vcpu, mem) in sizes {
        if skip.contains(size) {
            continue;
        }
        let mut t = InstanceType::new(format!("{series}.{size}{suffix}"), *vcpu, *mem);
        t.gpu = gpu.map(str::to_string);
        out.insert(t.name.clone(), t);
    }
}

/// A lookup table of instance types.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct InstanceCatalog {
    types: BTreeMap<String, InstanceType>,
    from_cluster: bool,
}

impl Default for InstanceCatalog {
    fn default() -> Self {
        Self::builtin()
    }
}

impl InstanceCatalog {
    /// The built-in table.
    pub fn builtin() -> Self {
        let mut t = BTreeMap::new();
        push_series(&mut t, "u1", U1_SIZES, &[], "", None);
        push_series(&mut t, "o1", U1_SIZES, &["2xmedium"], "", None);
        push_series(&mut t, "cx1", CX1_SIZES, &[], "", None);
        push_series(&mut t, "cx1", CX1_SIZES, &[], "1gi", None);
        push_series(&mut t, "m1", M1_SIZES, &[], "", None);
        push_series(&mut t, "m1", M1_SIZES, &[], "1gi", None);
        push_series(&mut t, "n1", N1_SIZES, &[], "", None);
        push_series(&mut t, "rt1", U1_SIZES, &["nano", "2xmedium"], "", None);
        push_series(&mut t, "d1", U1_SIZES, &[], "", None);
        push_series(&mut t, "gn1", GN1_SIZES, &[], "", Some(GN1_GPU));
        push_series(&mut t, "s1", S1_SIZES, &[], "", None);
        InstanceCatalog {
            types: t,
            from_cluster: false,
        }
    }

    /// The built-in table, overridden and extended by the types the cluster reports
    /// (`options/instancetype`).
    pub fn with_cluster(types: Vec<InstanceType>) -> Self {
        let mut c = Self::builtin();
        for t in types {
            c.types.insert(t.name.clone(), t);
        }
        c.from_cluster = true;
        c
    }

    /// True when the cluster's list was merged in: a name missing from the table then really does
    /// not exist on the cluster.
    pub fn is_from_cluster(&self) -> bool {
        self.from_cluster
    }

    /// True for a series the built-in table defines (`u1`, `gn1`, ...).
    pub fn is_builtin_series(series: &str) -> bool {
        SERIES.iter().any(|(s, _)| *s == series)
    }

    /// Looks a type up by exact name.
    pub fn get(&self, name: &str) -> Option<&InstanceType> {
        self.types.get(name)
    }

    /// Up to three names nearest to `name` (edit distance, case-insensitive), same series first;
    /// for a known series with a far-off size, that series' smallest sizes.
    pub fn suggest(&self, name: &str) -> Vec<String> {
        let series = series_of(name);
        let mut found = nearest(name, self.types.keys().map(String::as_str), usize::MAX);
        // Same series first (`u1.3xlarge` -> u1 sizes before `s1.3xlarge`).
        found.sort_by_key(|n| !series_of(n).eq_ignore_ascii_case(series));
        found.truncate(3);
        if found.is_empty() {
            // Right series, size far off: offer the series' smallest sizes.
            found = self
                .list(|t| t.series.eq_ignore_ascii_case(series))
                .into_iter()
                .take(3)
                .map(|t| t.name.clone())
                .collect();
        }
        found
    }

    /// The types `filter` accepts, smallest first (vCPU, then memory, then name).
    pub fn list<F: Fn(&InstanceType) -> bool>(&self, filter: F) -> Vec<&InstanceType> {
        let mut v: Vec<&InstanceType> = self.types.values().filter(|t| filter(t)).collect();
        v.sort_by(|a, b| sort_key(a).cmp(&sort_key(b)));
        v
    }

    /// The smallest type with at least `min_vcpu` vCPUs and `min_memory_bytes` of memory, in
    /// `series` if given. Without a series, types with a built-in GPU (gn1) are left out.
    pub fn smallest_fitting(
        &self,
        series: Option<&str>,
        min_vcpu: u32,
        min_memory_bytes: u128,
    ) -> Option<&InstanceType> {
        self.list(|t| {
            series.map_or(t.gpu.is_none(), |s| t.series == s)
                && t.vcpu >= min_vcpu
                && t.memory_bytes >= min_memory_bytes
        })
        .into_iter()
        .next()
    }

    /// For `gpus` GPUs on `current`, the type of the same series that gives 8 to 16 vCPUs per GPU:
    /// with too few vCPUs, the smallest such type with at least `current`'s memory; with too many,
    /// the largest such type. `None` when the series has no such size.
    pub fn fit_for_gpus(&self, current: &InstanceType, gpus: u32) -> Option<&InstanceType> {
        if gpus == 0 {
            return None;
        }
        let (lo, hi) = (
            super::rules::MIN_VCPU_PER_GPU * gpus,
            super::rules::MAX_VCPU_PER_GPU * gpus,
        );
        let in_range = self.list(|t| t.series == current.series && t.vcpu >= lo && t.vcpu <= hi);
        if current.vcpu < lo {
            in_range
                .iter()
                .copied()
                .find(|t| t.memory_bytes >= current.memory_bytes)
                .or_else(|| in_range.first().copied())
        } else {
            in_range.last().copied()
        }
    }

    /// Every type, by name.
    pub fn iter(&self) -> impl Iterator<Item = &InstanceType> {
        self.types.values()
    }
}

fn sort_key(t: &InstanceType) -> (u32, u128, usize, &str) {
    (t.vcpu, t.memory_bytes, t.name.len(), t.name.as_str())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn cat() -> InstanceCatalog {
        InstanceCatalog::builtin()
    }

    #[test]
    fn builtin_table_matches_the_sources() {
        let c = cat();
        let check = |name: &str, vcpu: u32, mem: &str| {
            let t = c.get(name).unwrap_or_else(|| panic!("{name} missing"));
            assert_eq!((t.vcpu, t.memory_text().as_str()), (vcpu, mem), "{name}");
        };
        check("u1.nano", 1, "512Mi");
        check("u1.medium", 1, "4Gi");
        check("u1.2xmedium", 2, "4Gi");
        check("u1.2xlarge", 8, "32Gi");
        check("u1.8xlarge", 32, "128Gi");
        check("o1.8xlarge", 32, "128Gi");
        check("cx1.medium", 1, "2Gi");
        check("cx1.8xlarge1gi", 32, "64Gi");
        check("m1.large", 2, "16Gi");
        check("m1.8xlarge", 32, "256Gi");
        check("m1.xlarge1gi", 4, "32Gi");
        check("n1.medium", 4, "4Gi");
        check("n1.8xlarge", 64, "128Gi");
        check("rt1.micro", 1, "1Gi");
        check("d1.2xmedium", 2, "4Gi");
        check("gn1.xlarge", 4, "16Gi");
        check("gn1.8xlarge", 32, "128Gi");
        check("s1.small", 1, "2G");
        check("s1.3large", 12, "24G");
        check("s1.8xlarge", 64, "128G");
        assert!(c.get("o1.2xmedium").is_none());
        assert!(c.get("rt1.nano").is_none());
        assert!(c.get("cx1.small").is_none());
        assert_eq!(c.get("gn1.2xlarge").unwrap().gpu.as_deref(), Some(GN1_GPU));
        assert!(c.get("u1.2xlarge").unwrap().gpu.is_none());
        assert_eq!(c.get("s1.xlarge").unwrap().memory_bytes, 16_000_000_000);
        assert_eq!(c.iter().count(), 10 + 9 + 12 + 10 + 6 + 8 + 10 + 4 + 9);
        for t in c.iter() {
            assert!(InstanceCatalog::is_builtin_series(&t.series), "{}", t.name);
        }
    }

    #[test]
    fn cluster_types_override_and_extend() {
        let c = InstanceCatalog::with_cluster(vec![
            InstanceType::new("u1.2xlarge", 10, 40 * GI),
            InstanceType::new("hk1.gpu", 24, 96 * GI).with_gpu("nvidia.com/AD102GL_L40S"),
        ]);
        assert!(c.is_from_cluster());
        assert!(!cat().is_from_cluster());
        assert_eq!(c.get("u1.2xlarge").unwrap().vcpu, 10);
        let hk = c.get("hk1.gpu").unwrap();
        assert_eq!(hk.series, "hk1");
        assert_eq!(hk.gpu.as_deref(), Some("nvidia.com/AD102GL_L40S"));
        assert!(c.get("u1.medium").is_some());
    }

    #[test]
    fn suggestions_for_unknown_names() {
        let c = cat();
        assert_eq!(c.suggest("u1.mediun"), vec!["u1.medium"]);
        assert_eq!(c.suggest("u1.3xlarge")[0], "u1.2xlarge");
        assert!(c.suggest("U1.LARGE").contains(&"u1.large".to_string()));
        assert_eq!(
            c.suggest("u1.enormous-size"),
            vec!["u1.nano", "u1.micro", "u1.small"]
        );
        assert!(c.suggest("zz9.plural-z-alpha").is_empty());
    }

    #[test]
    fn smallest_fitting_picks_the_smallest() {
        let c = cat();
        let name = |t: Option<&InstanceType>| t.map(|t| t.name.clone());
        assert_eq!(
            name(c.smallest_fitting(Some("u1"), 32, 0)),
            Some("u1.8xlarge".into())
        );
        assert_eq!(
            name(c.smallest_fitting(Some("u1"), 1, 4 * GI)),
            Some("u1.medium".into())
        );
        assert_eq!(
            name(c.smallest_fitting(Some("u1"), 2, 4 * GI)),
            Some("u1.2xmedium".into())
        );
        assert_eq!(
            name(c.smallest_fitting(Some("cx1"), 8, 0)),
            Some("cx1.2xlarge".into())
        );
        assert_eq!(
            name(c.smallest_fitting(Some("s1"), 12, 0)),
            Some("s1.3large".into())
        );
        assert_eq!(name(c.smallest_fitting(Some("u1"), 33, 0)), None);
        // Without a series: the overall smallest, never a gn1.
        // s1.8xlarge (64 vCPU, 128G) is smaller than n1.8xlarge (64 vCPU, 128Gi).
        assert_eq!(
            name(c.smallest_fitting(None, 64, 0)),
            Some("s1.8xlarge".into())
        );
        assert_eq!(name(c.smallest_fitting(None, 64, 129 * GI)), None);
        assert!(c.smallest_fitting(None, 4, 16 * GI).unwrap().gpu.is_none());
        assert_eq!(
            name(c.smallest_fitting(Some("gn1"), 1, 0)),
            Some("gn1.xlarge".into())
        );
    }

    #[test]
    fn fit_for_gpus_follows_the_8_to_16_rule() {
        let c = cat();
        let fit = |cur: &str, n: u32| {
            c.fit_for_gpus(c.get(cur).unwrap(), n)
                .map(|t| t.name.clone())
        };
        // The example.
        assert_eq!(fit("u1.2xlarge", 4), Some("u1.8xlarge".into()));
        assert_eq!(fit("u1.medium", 1), Some("u1.2xlarge".into()));
        assert_eq!(fit("u1.8xlarge", 1), Some("u1.4xlarge".into()));
        assert_eq!(fit("u1.xlarge", 2), Some("u1.4xlarge".into()));
        assert_eq!(fit("u1.large", 8), None);
        assert_eq!(fit("s1.large", 1), Some("s1.xlarge".into()));
        assert_eq!(fit("u1.large", 0), None);
    }

    #[test]
    fn list_filters_and_sorts() {
        let c = cat();
        let names: Vec<&str> = c
            .list(|t| t.series == "gn1")
            .iter()
            .map(|t| t.name.as_str())
            .collect();
        assert_eq!(
            names,
            ["gn1.xlarge", "gn1.2xlarge", "gn1.4xlarge", "gn1.8xlarge"]
        );
        assert_eq!(series_of("u1.large"), "u1");
        assert_eq!(series_of("custom"), "custom");
        assert_eq!(
            c.get("u1.8xlarge").unwrap().describe(),
            "u1.8xlarge (32 vCPU, 128Gi)"
        );
    }
}
