//! The schema model: what a provider, resource or data source accepts, and
//! the framework-side behaviour attached to each attribute (defaults, forced
//! replacement, keeping computed values across updates).
//!
//! Only the descriptive part goes on the wire; `default`, `requires_replace`
//! and `use_state_for_unknown` drive the generic planner in `plan.rs`.

use std::collections::{BTreeMap, BTreeSet};

use super::value::{Type, Value};

/// A versioned schema (resource schemas carry a state version).
#[derive(Debug, Clone)]
pub struct Schema {
    /// State version; bump it with an upgrade function.
    pub version: i64,
    /// The top-level block.
    pub block: Block,
}

impl Schema {
    /// A version 0 schema.
    pub fn new(block: Block) -> Self {
        Self { version: 0, block }
    }

    /// The value type Terraform uses for objects of this schema.
    pub fn value_type(&self) -> Type {
        self.block.value_type()
    }
}

/// A block: attributes and nested blocks.
#[derive(Debug, Clone, Default)]
pub struct Block {
    /// Attributes, in display order.
    pub attributes: Vec<Attribute>,
    /// Nested blocks (we use them only for `timeouts`).
    pub blocks: Vec<NestedBlock>,
    /// Markdown description.
    pub description: String,
    /// Whether the whole block is deprecated.
    pub deprecated: bool,
}

impl Block {
    /// A block with a description.
    pub fn new(description: impl Into<String>) -> Self {
        Self {
            description: description.into(),
            ..Default::default()
        }
    }

    /// Add an attribute.
    pub fn attr(mut self, a: Attribute) -> Self {
        self.attributes.push(a);
        self
    }

    /// Add a nested block.
    pub fn block(mut self, b: NestedBlock) -> Self {
        self.blocks.push(b);
        self
    }

    /// The object type of this block's values.
    pub fn value_type(&self) -> Type {
        let mut attrs = BTreeMap::new();
        for a in &self.attributes {
            attrs.insert(a.name.clone(), a.value_type());
        }
        for b in &self.blocks {
            attrs.insert(b.type_name.clone(), b.value_type());
        }
        Type::Object {
            attrs,
            optional: BTreeSet::new(),
        }
    }

    /// Find an attribute by name.
    pub fn attribute(&self, name: &str) -> Option<&Attribute> {
        self.attributes.iter().find(|a| a.name == name)
    }
}

/// How a nested attribute or block repeats.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Nesting {
    /// One object.
    Single,
    /// A list of objects.
    List,
    /// A set of objects.
    Set,
    /// A map of objects.
    Map,
}

/// What an attribute holds.
#[derive(Debug, Clone)]
pub enum AttrKind {
    /// A plain cty type.
    Plain(Type),
    /// Protocol 6 nested attributes: `x = { ... }` or `x = [{ ... }]`.
    Nested(Nesting, Vec<Attribute>),
}

/// One attribute.
#[derive(Debug, Clone)]
pub struct Attribute {
    /// Name in HCL.
    pub name: String,
    /// Type or nested attributes.
    pub kind: AttrKind,
    /// Markdown description.
    pub description: String,
    /// Must be set.
    pub required: bool,
    /// May be set.
    pub optional: bool,
    /// The provider may set it.
    pub computed: bool,
    /// Hidden in plan output.
    pub sensitive: bool,
    /// Never stored in state (Terraform >= 1.11).
    pub write_only: bool,
    /// Marked deprecated (with the description saying what to use).
    pub deprecated: bool,
    /// Planned when the configuration leaves it null (Optional+Computed only).
    pub default: Option<Value>,
    /// A change of value replaces the resource.
    pub requires_replace: bool,
    /// A computed value that stays as it is in state across updates.
    pub use_state_for_unknown: bool,
}

impl Attribute {
    fn new(name: &str, kind: AttrKind) -> Self {
        Self {
            name: name.to_string(),
            kind,
            description: String::new(),
            required: false,
            optional: false,
            computed: false,
            sensitive: false,
            write_only: false,
            deprecated: false,
            default: None,
            requires_replace: false,
            use_state_for_unknown: false,
        }
    }

    /// A string attribute.
    pub fn string(name: &str) -> Self {
        Self::new(name, AttrKind::Plain(Type::String))
    }

    /// A number attribute.
    pub fn number(name: &str) -> Self {
        Self::new(name, AttrKind::Plain(Type::Number))
    }

    /// A bool attribute.
    pub fn bool(name: &str) -> Self {
        Self::new(name, AttrKind::Plain(Type::Bool))
    }

    /// An attribute of any cty type.
    pub fn typed(name: &str, ty: Type) -> Self {
        Self::new(name, AttrKind::Plain(ty))
    }

    /// Nested attributes.
    pub fn nested(name: &str, nesting: Nesting, attrs: Vec<Attribute>) -> Self {
        Self::new(name, AttrKind::Nested(nesting, attrs))
    }

    /// Markdown description.
    pub fn description(mut self, d: impl Into<String>) -> Self {
        self.description = d.into();
        self
    }

    /// Required.
    pub fn required(mut self) -> Self {
        self.required = true;
        self
    }

    /// Optional.
    pub fn optional(mut self) -> Self {
        self.optional = true;
        self
    }

    /// Computed.
    pub fn computed(mut self) -> Self {
        self.computed = true;
        self
    }

    /// Sensitive.
    pub fn sensitive(mut self) -> Self {
        self.sensitive = true;
        self
    }

    /// Write-only.
    pub fn write_only(mut self) -> Self {
        self.write_only = true;
        self
    }

    /// Deprecated.
    pub fn deprecated(mut self) -> Self {
        self.deprecated = true;
        self
    }

    /// Optional + computed with a default value.
    pub fn default(mut self, v: Value) -> Self {
        self.optional = true;
        self.computed = true;
        self.default = Some(v);
        self
    }

    /// Changing it replaces the resource.
    pub fn requires_replace(mut self) -> Self {
        self.requires_replace = true;
        self
    }

    /// Keep the prior state value when the configuration does not set one.
    pub fn use_state_for_unknown(mut self) -> Self {
        self.use_state_for_unknown = true;
        self
    }

    /// The cty type of this attribute's value.
    pub fn value_type(&self) -> Type {
        match &self.kind {
            AttrKind::Plain(t) => t.clone(),
            AttrKind::Nested(nesting, attrs) => {
                let obj = Type::Object {
                    attrs: attrs
                        .iter()
                        .map(|a| (a.name.clone(), a.value_type()))
                        .collect(),
                    optional: BTreeSet::new(),
                };
                match nesting {
                    Nesting::Single => obj,
                    Nesting::List => Type::List(Box::new(obj)),
                    Nesting::Set => Type::Set(Box::new(obj)),
                    Nesting::Map => Type::Map(Box::new(obj)),
                }
            }
        }
    }
}

/// A nested block (`timeouts { ... }`).
#[derive(Debug, Clone)]
pub struct NestedBlock {
    /// Block type name.
    pub type_name: String,
    /// Its content.
    pub block: Block,
    /// How it repeats.
    pub nesting: Nesting,
    /// Minimum count (0 = none).
    pub min_items: i64,
    /// Maximum count (0 = unbounded).
    pub max_items: i64,
}

impl NestedBlock {
    /// A single optional block.
    pub fn single(type_name: &str, block: Block) -> Self {
        Self {
            type_name: type_name.to_string(),
            block,
            nesting: Nesting::Single,
            min_items: 0,
            max_items: 0,
        }
    }

    /// The value type of the block's value.
    pub fn value_type(&self) -> Type {
        let obj = self.block.value_type();
        match self.nesting {
            Nesting::Single => obj,
            Nesting::List => Type::List(Box::new(obj)),
            Nesting::Set => Type::Set(Box::new(obj)),
            Nesting::Map => Type::Map(Box::new(obj)),
        }
    }
}

/// The standard `timeouts` block with the given operations (`create`,
/// `read`, `update`, `delete`), each a Go-style duration string.
pub fn timeouts_block(ops: &[(&str, &str)]) -> NestedBlock {
    let mut block =
        Block::new("Operation timeouts, as duration strings such as `30s`, `10m` or `1h30m`.");
    for (op, default) in ops {
        block = block.attr(Attribute::string(op).optional().description(format!(
            "How long to wait for {op} to finish. Default `{default}`."
        )));
    }
    NestedBlock::single("timeouts", block)
}

/// The identity schema of a resource (protocol 6.9 resource identities).
#[derive(Debug, Clone)]
pub struct IdentitySchema {
    /// Identity version.
    pub version: i64,
    /// Identity attributes: (name, type, required for import, description).
    pub attributes: Vec<IdentityAttribute>,
}

/// One identity attribute.
#[derive(Debug, Clone)]
pub struct IdentityAttribute {
    /// Name.
    pub name: String,
    /// Type.
    pub ty: Type,
    /// Required when importing by identity.
    pub required_for_import: bool,
    /// Optional when importing by identity.
    pub optional_for_import: bool,
    /// Description.
    pub description: String,
}

impl IdentitySchema {
    /// The object type of identity values.
    pub fn value_type(&self) -> Type {
        Type::Object {
            attrs: self
                .attributes
                .iter()
                .map(|a| (a.name.clone(), a.ty.clone()))
                .collect(),
            optional: BTreeSet::new(),
        }
    }
}

/// Parse a Go-style duration (`90s`, `10m`, `1h30m`, `500ms`).
pub fn parse_duration(s: &str) -> Result<std::time::Duration, String> {
    let s = s.trim();
    if s.is_empty() {
        return Err("empty duration".into());
    }
    let mut total = 0f64;
    let mut rest = s;
    while !rest.is_empty() {
        let num_end = rest
            .find(|c: char| !(c.is_ascii_digit() || c == '.'))
            .ok_or_else(|| format!("`{s}` lacks a unit: write e.g. `30s`, `10m` or `1h`"))?;
        if num_end == 0 {
            return Err(format!(
                "`{s}` is not a duration: write e.g. `30s`, `10m` or `1h`"
            ));
        }
        let n: f64 = rest[..num_end]
            .parse()
            .map_err(|_| format!("`{s}` is not a duration"))?;
        rest = &rest[num_end..];
        let unit_end = rest
            .find(|c: char| c.is_ascii_digit() || c == '.')
            .unwrap_or(rest.len());
        let mult = match &rest[..unit_end] {
            "ns" => 1e-9,
            "us" | "µs" => 1e-6,
            "ms" => 1e-3,
            "s" => 1.0,
            "m" => 60.0,
            "h" => 3600.0,
            u => {
                return Err(format!(
                    "`{s}` has an unknown unit `{u}`: use ms, s, m or h"
                ));
            }
        };
        total += n * mult;
        rest = &rest[unit_end..];
    }
    Ok(std::time::Duration::from_secs_f64(total))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn durations() {
        assert_eq!(parse_duration("90s").unwrap().as_secs(), 90);
        assert_eq!(parse_duration("1h30m").unwrap().as_secs(), 5400);
        assert_eq!(parse_duration("500ms").unwrap().as_millis(), 500);
        assert!(parse_duration("10").is_err());
        assert!(parse_duration("10x").is_err());
        assert!(parse_duration("").is_err());
    }

    #[test]
    fn nested_attribute_types() {
        let a = Attribute::nested(
            "gpus",
            Nesting::List,
            vec![Attribute::string("name").required()],
        );
        assert_eq!(
            a.value_type(),
            Type::List(Box::new(Type::Object {
                attrs: [("name".to_string(), Type::String)].into_iter().collect(),
                optional: BTreeSet::new()
            }))
        );
    }
}
