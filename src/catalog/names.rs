//! Application names: DNS-1035 labels, and the per-kind length limit that comes from the
//! HelmRelease name (`len(prefix + name) <= 53`, enforced on write from Cozystack v1.0; Helm
//! itself refuses longer release names on older versions).

use std::fmt;

/// The longest HelmRelease name Helm accepts.
pub const MAX_RELEASE_NAME: usize = 53;
/// The longest DNS-1035 label.
pub const MAX_LABEL: usize = 63;

/// A Cozystack application kind, for its name rules.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum AppKind {
    /// `VirtualMachine` (Cozystack up to v0.41), prefix `virtual-machine-`.
    VirtualMachine,
    /// `VMInstance` (Cozystack v0.30 and later), prefix `vm-instance-`.
    VMInstance,
    /// `VMDisk` (Cozystack v0.30 and later), prefix `vm-disk-`.
    VMDisk,
    /// `Kubernetes`, prefix `kubernetes-`.
    Kubernetes,
    /// `KubernetesNodes` (Cozystack v1.6 and later), prefix `kubernetes-nodes-`.
    KubernetesNodes,
}

impl AppKind {
    /// The HelmRelease name prefix.
    pub fn prefix(self) -> &'static str {
        match self {
            AppKind::VirtualMachine => "virtual-machine-",
            AppKind::VMInstance => "vm-instance-",
            AppKind::VMDisk => "vm-disk-",
            AppKind::Kubernetes => "kubernetes-",
            AppKind::KubernetesNodes => "kubernetes-nodes-",
        }
    }

    /// The kind as the API spells it.
    pub fn as_str(self) -> &'static str {
        match self {
            AppKind::VirtualMachine => "VirtualMachine",
            AppKind::VMInstance => "VMInstance",
            AppKind::VMDisk => "VMDisk",
            AppKind::Kubernetes => "Kubernetes",
            AppKind::KubernetesNodes => "KubernetesNodes",
        }
    }
}

impl fmt::Display for AppKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// The longest name an application of `kind` may have: 53 minus the prefix length
/// (VirtualMachine 37, VMInstance 41, VMDisk 45, Kubernetes 42, KubernetesNodes 36).
pub fn max_name_len(kind: AppKind) -> usize {
    MAX_RELEASE_NAME - kind.prefix().len()
}

/// Why a name is refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum NameError {
    /// The name is empty.
    #[error("the name is empty")]
    Empty,
    /// Not a DNS-1035 label.
    #[error("`{name}` is not a valid name: {reason}")]
    NotDns1035 {
        /// The name as written.
        name: String,
        /// What is wrong, in a few words.
        reason: String,
        /// A corrected name, when one is obvious.
        suggestion: Option<String>,
    },
    /// Longer than the kind allows.
    #[error("`{name}` is {len} characters long; a {kind} name may have at most {max} (the API names it `{}{name}`, which must fit in 53)", .kind.prefix())]
    TooLong {
        /// The name as written.
        name: String,
        /// Its length.
        len: usize,
        /// The limit.
        max: usize,
        /// The kind whose limit applies.
        kind: AppKind,
    },
}

impl NameError {
    /// The one-line fix.
    pub fn fix(&self) -> String {
        match self {
            NameError::Empty => "Fix: set a name such as `gpu-vm-1`.".to_string(),
            NameError::NotDns1035 {
                suggestion: Some(s),
                ..
            } => format!("Fix: use `{s}`."),
            NameError::NotDns1035 { .. } => "Fix: use lowercase letters, digits and '-', starting with a letter and ending with a letter or digit.".to_string(),
            NameError::TooLong { name, max, .. } => {
                let cut: String = name.chars().take(*max).collect();
                let cut = cut.trim_end_matches('-');
                format!("Fix: shorten it to {max} characters or fewer, e.g. `{cut}`.")
            }
        }
    }
}

/// Checks that `name` is a DNS-1035 label: lowercase letters, digits and `-`, starting with a
/// letter, ending with a letter or digit, at most 63 characters.
pub fn check_dns1035(name: &str) -> Result<(), NameError> {
    if name.is_empty() {
        return Err(NameError::Empty);
    }
    let reason = if name.starts_with('_') {
        Some("it starts with '_', which Cozystack reserves".to_string())
    } else if let Some(c) = name
        .chars()
        .find(|c| !(c.is_ascii_lowercase() || c.is_ascii_digit() || *c == '-'))
    {
        Some(if c.is_ascii_uppercase() {
            "it contains uppercase letters".to_string()
        } else {
            format!("it contains {c:?}; only lowercase letters, digits and '-' are allowed")
        })
    } else if !name.starts_with(|c: char| c.is_ascii_lowercase()) {
        Some("it must start with a letter".to_string())
    } else if name.ends_with('-') {
        Some("it must end with a letter or digit".to_string())
    } else if name.len() > MAX_LABEL {
        Some(format!(
            "it is {} characters long; the limit is {MAX_LABEL}",
            name.len()
        ))
    } else {
        None
    };
    match reason {
        None => Ok(()),
        Some(reason) => Err(NameError::NotDns1035 {
            name: name.to_string(),
            reason,
            suggestion: sanitize(name).filter(|s| s != name),
        }),
    }
}

/// A DNS-1035 label close to `name`: lowercased, other characters turned into `-`, runs of `-`
/// collapsed, leading non-letters and trailing `-` dropped, cut to 63.
fn sanitize(name: &str) -> Option<String> {
    let mut out = String::new();
    for c in name.chars() {
        let c = c.to_ascii_lowercase();
        let c = if c.is_ascii_lowercase() || c.is_ascii_digit() {
            c
        } else {
            '-'
        };
        if c == '-' && (out.is_empty() || out.ends_with('-')) {
            continue;
        }
        out.push(c);
    }
    let start = out.find(|c: char| c.is_ascii_lowercase())?;
    let mut s: String = out[start..].chars().take(MAX_LABEL).collect();
    while s.ends_with('-') {
        s.pop();
    }
    (!s.is_empty()).then_some(s)
}

/// Checks `name` for an application of `kind`: DNS-1035 label and the kind's length limit.
pub fn check_name(kind: AppKind, name: &str) -> Result<(), NameError> {
    check_dns1035(name)?;
    let max = max_name_len(kind);
    if name.len() > max {
        return Err(NameError::TooLong {
            name: name.to_string(),
            len: name.len(),
            max,
            kind,
        });
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn limits_per_kind() {
        assert_eq!(max_name_len(AppKind::VMInstance), 41);
        assert_eq!(max_name_len(AppKind::VirtualMachine), 37);
        assert_eq!(max_name_len(AppKind::Kubernetes), 42);
        assert_eq!(max_name_len(AppKind::VMDisk), 45);
        assert_eq!(max_name_len(AppKind::KubernetesNodes), 36);
    }

    #[test]
    fn good_names() {
        for n in ["a", "gpu-vm-1", "ai-workstation", "x9", &"a".repeat(41)] {
            assert_eq!(check_name(AppKind::VMInstance, n), Ok(()), "{n}");
        }
    }

    #[test]
    fn bad_names_say_why_and_suggest() {
        let cases: &[(&str, &str, Option<&str>)] = &[
            ("GPU-VM", "uppercase", Some("gpu-vm")),
            ("gpu_vm", "'_'", Some("gpu-vm")),
            ("_gpu", "starts with '_'", Some("gpu")),
            ("1vm", "start with a letter", Some("vm")),
            ("vm-", "end with a letter or digit", Some("vm")),
            ("-vm", "start with a letter", Some("vm")),
            ("vm.one", "'.'", Some("vm-one")),
            ("---", "start with a letter", None),
        ];
        for (name, reason, sugg) in cases {
            match check_name(AppKind::VMInstance, name).unwrap_err() {
                NameError::NotDns1035 {
                    name: n,
                    reason: r,
                    suggestion,
                } => {
                    assert_eq!(&n, name);
                    assert!(r.contains(reason), "{name}: {r}");
                    assert_eq!(suggestion.as_deref(), *sugg, "{name}");
                }
                other => panic!("{name}: {other:?}"),
            }
        }
        assert_eq!(check_name(AppKind::Kubernetes, ""), Err(NameError::Empty));
        let long = "a".repeat(64);
        assert!(matches!(
            check_dns1035(&long),
            Err(NameError::NotDns1035 { .. })
        ));
    }

    #[test]
    fn too_long_per_kind() {
        let name = "a".repeat(38);
        assert_eq!(check_name(AppKind::VMInstance, &name), Ok(()));
        let err = check_name(AppKind::VirtualMachine, &name).unwrap_err();
        assert_eq!(
            err.to_string(),
            format!(
                "`{name}` is 38 characters long; a VirtualMachine name may have at most 37 (the API names it `virtual-machine-{name}`, which must fit in 53)"
            )
        );
        assert_eq!(
            err.fix(),
            format!(
                "Fix: shorten it to 37 characters or fewer, e.g. `{}`.",
                "a".repeat(37)
            )
        );
        assert!(check_name(AppKind::Kubernetes, &"k".repeat(42)).is_ok());
        assert!(check_name(AppKind::Kubernetes, &"k".repeat(43)).is_err());
    }
}
