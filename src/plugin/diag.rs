//! Diagnostics: what Terraform shows the user, with the attribute they are
//! about.

use std::fmt;

/// How serious a diagnostic is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Severity {
    /// Stops the operation.
    Error,
    /// Shown, does not stop anything.
    Warning,
}

/// One step of an attribute path.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum PathStep {
    /// An attribute (or nested block) name.
    Attr(String),
    /// A list, tuple or set-by-position index.
    Index(i64),
    /// A map key.
    Key(String),
}

/// A path to an attribute, `gpus[0].name` style.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Default, PartialOrd, Ord)]
pub struct AttrPath(pub Vec<PathStep>);

impl AttrPath {
    /// The path of a top-level attribute.
    pub fn root(name: &str) -> Self {
        Self(vec![PathStep::Attr(name.to_string())])
    }

    /// This path followed by an attribute.
    pub fn attr(mut self, name: &str) -> Self {
        self.0.push(PathStep::Attr(name.to_string()));
        self
    }

    /// This path followed by an index.
    pub fn index(mut self, i: i64) -> Self {
        self.0.push(PathStep::Index(i));
        self
    }

    /// This path followed by a map key.
    pub fn key(mut self, k: &str) -> Self {
        self.0.push(PathStep::Key(k.to_string()));
        self
    }

    /// Parse `a.b[0].c["k"]` (used by tests and by the catalog bridge).
    pub fn parse(s: &str) -> Self {
        let mut steps = Vec::new();
        let mut rest = s;
        while !rest.is_empty() {
            if let Some(r) = rest.strip_prefix('.') {
                rest = r;
                continue;
            }
            if let Some(r) = rest.strip_prefix('[') {
                let end = r.find(']').unwrap_or(r.len());
                let inner = &r[..end];
                if let Some(k) = inner.strip_prefix('"').and_then(|k| k.strip_suffix('"')) {
                    steps.push(PathStep::Key(k.to_string()));
                } else if let Ok(i) = inner.parse() {
                    steps.push(PathStep::Index(i));
                } else {
                    steps.push(PathStep::Key(inner.to_string()));
                }
                rest = r.get(end + 1..).unwrap_or("");
                continue;
            }
            let end = rest.find(['.', '[']).unwrap_or(rest.len());
            steps.push(PathStep::Attr(rest[..end].to_string()));
            rest = &rest[end..];
        }
        Self(steps)
    }
}

impl fmt::Display for AttrPath {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (i, step) in self.0.iter().enumerate() {
            match step {
                PathStep::Attr(a) if i == 0 => write!(f, "{a}")?,
                PathStep::Attr(a) => write!(f, ".{a}")?,
                PathStep::Index(n) => write!(f, "[{n}]")?,
                PathStep::Key(k) => write!(f, "[{k:?}]")?,
            }
        }
        Ok(())
    }
}

/// A message for the user.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Diagnostic {
    /// Error or warning.
    pub severity: Severity,
    /// One line.
    pub summary: String,
    /// The explanation and the fix.
    pub detail: String,
    /// The attribute it is about, when there is one.
    pub attribute: Option<AttrPath>,
}

impl Diagnostic {
    /// An error not tied to an attribute.
    pub fn error(summary: impl Into<String>, detail: impl Into<String>) -> Self {
        Self {
            severity: Severity::Error,
            summary: summary.into(),
            detail: detail.into(),
            attribute: None,
        }
    }

    /// A warning not tied to an attribute.
    pub fn warning(summary: impl Into<String>, detail: impl Into<String>) -> Self {
        Self {
            severity: Severity::Warning,
            ..Self::error(summary, detail)
        }
    }

    /// Attach the attribute this diagnostic is about.
    pub fn at(mut self, path: AttrPath) -> Self {
        self.attribute = Some(path);
        self
    }
}

/// A list of diagnostics.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Diagnostics(pub Vec<Diagnostic>);

impl Diagnostics {
    /// No diagnostics.
    pub fn new() -> Self {
        Self::default()
    }

    /// Add one.
    pub fn push(&mut self, d: Diagnostic) {
        self.0.push(d);
    }

    /// Add an error.
    pub fn error(&mut self, summary: impl Into<String>, detail: impl Into<String>) {
        self.push(Diagnostic::error(summary, detail));
    }

    /// Add an error about an attribute.
    pub fn error_at(
        &mut self,
        path: AttrPath,
        summary: impl Into<String>,
        detail: impl Into<String>,
    ) {
        self.push(Diagnostic::error(summary, detail).at(path));
    }

    /// Add a warning about an attribute.
    pub fn warning_at(
        &mut self,
        path: AttrPath,
        summary: impl Into<String>,
        detail: impl Into<String>,
    ) {
        self.push(Diagnostic::warning(summary, detail).at(path));
    }

    /// Append others.
    pub fn extend(&mut self, other: Diagnostics) {
        self.0.extend(other.0);
    }

    /// Whether any is an error.
    pub fn has_errors(&self) -> bool {
        self.0.iter().any(|d| d.severity == Severity::Error)
    }

    /// Whether there are none.
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    /// Iterate.
    pub fn iter(&self) -> impl Iterator<Item = &Diagnostic> {
        self.0.iter()
    }
}

impl From<Diagnostic> for Diagnostics {
    fn from(d: Diagnostic) -> Self {
        Self(vec![d])
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn path_display_and_parse_round_trip() {
        let p = AttrPath::root("gpus").index(0).attr("name");
        assert_eq!(p.to_string(), "gpus[0].name");
        assert_eq!(AttrPath::parse("gpus[0].name"), p);
        let m = AttrPath::root("labels").key("a.b");
        assert_eq!(m.to_string(), "labels[\"a.b\"]");
        assert_eq!(AttrPath::parse("labels[\"a.b\"]"), m);
    }

    #[test]
    fn errors_are_counted() {
        let mut d = Diagnostics::new();
        d.warning_at(AttrPath::root("x"), "w", "");
        assert!(!d.has_errors());
        d.error("e", "");
        assert!(d.has_errors());
    }
}
