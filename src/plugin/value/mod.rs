//! Terraform (cty) type and value model, and the two `DynamicValue`
//! encodings used by the plugin protocol: msgpack and JSON.
//!
//! The wire formats follow `github.com/zclconf/go-cty/cty/msgpack` and
//! `cty/json`:
//!
//! * msgpack: null is `nil`; a wholly unknown value is extension type 0
//!   (`d4 00 00`); a refined unknown is extension type 12 whose payload is a
//!   map with small-integer keys (see [`Refinements`]). Numbers are ints
//!   when integral and within `i64`, float64 when exactly representable and
//!   not integral, and otherwise decimal text in a msgpack string. Values
//!   whose schema type is `dynamic` are wrapped as `[type-JSON (bin), value]`.
//! * JSON: plain JSON, numbers written in plain decimal; dynamic values as
//!   `{"value": ..., "type": ...}`; unknown values cannot be encoded.
//!
//! Differences from cty, on purpose:
//! * Infinite numbers (which cty can encode as msgpack float) are rejected
//!   with an error, except as refinement bounds where an infinite bound is
//!   equivalent to no bound and is dropped.
//! * Object decoding fills any absent attribute with null (cty requires
//!   all of them in msgpack); unknown attribute names are an error.
//! * Strings must be valid UTF-8.
//! * Trailing bytes after the top-level value are an error.

use std::collections::{BTreeMap, BTreeSet};
use std::fmt;

use thiserror::Error;

pub mod json;
pub mod msgpack;
pub mod number;

#[cfg(test)]
mod tests;

pub use json::{decode_json, encode_json, upgrade_json_state};
pub use msgpack::{decode_msgpack, encode_msgpack};
pub use number::Number;

/// Maximum nesting depth accepted by the decoders (guards the stack against
/// hostile input; real Terraform schemas are nowhere near this deep).
pub const MAX_DEPTH: usize = 128;

/// Errors from decoding, encoding or checking values.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum ValueError {
    #[error("invalid msgpack value at {path}: {msg}")]
    Msgpack { path: String, msg: String },
    #[error("invalid JSON value at {path}: {msg}")]
    Json { path: String, msg: String },
    #[error("cannot encode value at {path}: {msg}")]
    Encode { path: String, msg: String },
    #[error("value does not conform to type at {path}: {msg}")]
    Conformance { path: String, msg: String },
    #[error("invalid type description: {0}")]
    Type(String),
    #[error("invalid number {text:?}: {reason}")]
    Number { text: String, reason: String },
}

impl ValueError {
    /// The attribute path the error refers to (`(root)` for the top level),
    /// when there is one.
    pub fn path(&self) -> Option<&str> {
        match self {
            ValueError::Msgpack { path, .. }
            | ValueError::Json { path, .. }
            | ValueError::Encode { path, .. }
            | ValueError::Conformance { path, .. } => Some(path),
            _ => None,
        }
    }
}

/// One step of an attribute path, used while walking values.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Step {
    Attr(String),
    Index(usize),
    Key(String),
}

/// A path being walked; rendered like `.gpus[0].name` or `.labels["a"]`.
#[derive(Debug, Default, Clone)]
pub(crate) struct AttrPath {
    steps: Vec<Step>,
}

impl AttrPath {
    pub(crate) fn push(&mut self, s: Step) {
        self.steps.push(s);
    }
    pub(crate) fn pop(&mut self) {
        self.steps.pop();
    }
    pub(crate) fn depth(&self) -> usize {
        self.steps.len()
    }
}

impl fmt::Display for AttrPath {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.steps.is_empty() {
            return f.write_str("(root)");
        }
        for s in &self.steps {
            match s {
                Step::Attr(a) => write!(f, ".{a}")?,
                Step::Index(i) => write!(f, "[{i}]")?,
                Step::Key(k) => write!(f, "[{k:?}]")?,
            }
        }
        Ok(())
    }
}

/// A cty type.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Type {
    Bool,
    Number,
    String,
    /// cty's `DynamicPseudoType`: the concrete type travels with the value.
    Dynamic,
    List(Box<Type>),
    Set(Box<Type>),
    Map(Box<Type>),
    Tuple(Vec<Type>),
    Object {
        attrs: BTreeMap<String, Type>,
        /// Names of optional attributes (a subset of `attrs`' keys).
        optional: BTreeSet<String>,
    },
}

impl Type {
    pub fn list(t: Type) -> Type {
        Type::List(Box::new(t))
    }
    pub fn set(t: Type) -> Type {
        Type::Set(Box::new(t))
    }
    pub fn map(t: Type) -> Type {
        Type::Map(Box::new(t))
    }
    pub fn tuple(ts: impl IntoIterator<Item = Type>) -> Type {
        Type::Tuple(ts.into_iter().collect())
    }
    /// Object type with no optional attributes.
    pub fn object<'a>(attrs: impl IntoIterator<Item = (&'a str, Type)>) -> Type {
        Type::Object {
            attrs: attrs.into_iter().map(|(k, t)| (k.to_string(), t)).collect(),
            optional: BTreeSet::new(),
        }
    }
    /// Object type with the given optional attribute names.
    pub fn object_with_optional<'a>(
        attrs: impl IntoIterator<Item = (&'a str, Type)>,
        optional: impl IntoIterator<Item = &'a str>,
    ) -> Type {
        Type::Object {
            attrs: attrs.into_iter().map(|(k, t)| (k.to_string(), t)).collect(),
            optional: optional.into_iter().map(str::to_string).collect(),
        }
    }

    /// True for list, set and map types (cty's "collection" types).
    pub fn is_collection(&self) -> bool {
        matches!(self, Type::List(_) | Type::Set(_) | Type::Map(_))
    }

    /// The type in cty's JSON type notation.
    pub fn to_json(&self) -> serde_json::Value {
        use serde_json::Value as J;
        match self {
            Type::Bool => J::from("bool"),
            Type::Number => J::from("number"),
            Type::String => J::from("string"),
            Type::Dynamic => J::from("dynamic"),
            Type::List(e) => J::Array(vec![J::from("list"), e.to_json()]),
            Type::Set(e) => J::Array(vec![J::from("set"), e.to_json()]),
            Type::Map(e) => J::Array(vec![J::from("map"), e.to_json()]),
            Type::Tuple(es) => J::Array(vec![
                J::from("tuple"),
                J::Array(es.iter().map(Type::to_json).collect()),
            ]),
            Type::Object { attrs, optional } => {
                let m: serde_json::Map<String, J> = attrs
                    .iter()
                    .map(|(k, t)| (k.clone(), t.to_json()))
                    .collect();
                let mut v = vec![J::from("object"), J::Object(m)];
                if !optional.is_empty() {
                    v.push(J::Array(
                        optional.iter().map(|s| J::from(s.as_str())).collect(),
                    ));
                }
                J::Array(v)
            }
        }
    }

    /// The type as compact cty type JSON bytes (e.g. `["list","string"]`).
    pub fn to_json_bytes(&self) -> Vec<u8> {
        serde_json::to_vec(&self.to_json()).expect("type JSON serialization cannot fail")
    }

    /// Parses cty type JSON.
    pub fn from_json(bytes: &[u8]) -> Result<Type, ValueError> {
        let v: serde_json::Value = serde_json::from_slice(bytes)
            .map_err(|e| ValueError::Type(format!("not valid JSON: {e}")))?;
        Type::from_json_value(&v)
    }

    /// Parses cty type JSON already decoded by serde_json.
    pub fn from_json_value(v: &serde_json::Value) -> Result<Type, ValueError> {
        use serde_json::Value as J;
        let bad = |m: String| ValueError::Type(m);
        match v {
            J::String(s) => match s.as_str() {
                "bool" => Ok(Type::Bool),
                "number" => Ok(Type::Number),
                "string" => Ok(Type::String),
                "dynamic" => Ok(Type::Dynamic),
                other => Err(bad(format!("invalid primitive type name {other:?}"))),
            },
            J::Array(items) => {
                let kind = items
                    .first()
                    .and_then(J::as_str)
                    .ok_or_else(|| bad("invalid complex type kind name".into()))?;
                let arity_err = || {
                    bad(format!(
                        "wrong number of elements in {kind} type description"
                    ))
                };
                match kind {
                    "list" | "set" | "map" => {
                        if items.len() != 2 {
                            return Err(arity_err());
                        }
                        let e = Box::new(Type::from_json_value(&items[1])?);
                        Ok(match kind {
                            "list" => Type::List(e),
                            "set" => Type::Set(e),
                            _ => Type::Map(e),
                        })
                    }
                    "tuple" => {
                        if items.len() != 2 {
                            return Err(arity_err());
                        }
                        let es = items[1]
                            .as_array()
                            .ok_or_else(|| bad("tuple element types must be an array".into()))?;
                        Ok(Type::Tuple(
                            es.iter()
                                .map(Type::from_json_value)
                                .collect::<Result<_, _>>()?,
                        ))
                    }
                    "object" => {
                        if items.len() != 2 && items.len() != 3 {
                            return Err(arity_err());
                        }
                        let m = items[1].as_object().ok_or_else(|| {
                            bad("object attribute types must be a JSON object".into())
                        })?;
                        let mut attrs = BTreeMap::new();
                        for (k, t) in m {
                            attrs.insert(k.clone(), Type::from_json_value(t)?);
                        }
                        let mut optional = BTreeSet::new();
                        if let Some(o) = items.get(2) {
                            let arr = o.as_array().ok_or_else(|| {
                                bad("optional attribute names must be an array".into())
                            })?;
                            for n in arr {
                                let n = n.as_str().ok_or_else(|| {
                                    bad("optional attribute name must be a string".into())
                                })?;
                                if !attrs.contains_key(n) {
                                    return Err(bad(format!(
                                        "optional attribute {n:?} is not an attribute of the object"
                                    )));
                                }
                                optional.insert(n.to_string());
                            }
                        }
                        Ok(Type::Object { attrs, optional })
                    }
                    other => Err(bad(format!("invalid complex type kind name {other:?}"))),
                }
            }
            _ => Err(bad("invalid type description".into())),
        }
    }
}

impl fmt::Display for Type {
    /// Friendly name, like cty's `FriendlyName`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Type::Bool => f.write_str("bool"),
            Type::Number => f.write_str("number"),
            Type::String => f.write_str("string"),
            Type::Dynamic => f.write_str("dynamic"),
            Type::List(e) => write!(f, "list of {e}"),
            Type::Set(e) => write!(f, "set of {e}"),
            Type::Map(e) => write!(f, "map of {e}"),
            Type::Tuple(_) => f.write_str("tuple"),
            Type::Object { .. } => f.write_str("object"),
        }
    }
}

/// Refinements of an unknown value (cty "value refinements").
///
/// On the msgpack wire (extension type 12, a map keyed by small integers):
/// `1` nullness (`false` = definitely not null), `2` string prefix,
/// `3`/`4` number lower/upper bound as `[number, inclusive]`,
/// `5`/`6` collection length lower/upper bound as an integer.
/// Only refinements meaningful for the value's type are encoded; others are
/// silently dropped (as cty does, since it cannot represent them).
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Refinements {
    pub not_null: bool,
    pub string_prefix: Option<String>,
    pub number_lower: Option<(Number, bool)>,
    pub number_upper: Option<(Number, bool)>,
    pub length_lower: Option<u64>,
    pub length_upper: Option<u64>,
}

impl Refinements {
    pub fn is_empty(&self) -> bool {
        *self == Refinements::default()
    }
    /// Refinements meaningful for `ty` only (what survives a msgpack round
    /// trip): the rest is dropped.
    pub fn restricted_to(&self, ty: &Type) -> Refinements {
        let mut r = Refinements {
            not_null: self.not_null,
            ..Default::default()
        };
        match ty {
            Type::Dynamic => return Refinements::default(),
            Type::String => {
                r.string_prefix = self.string_prefix.clone().filter(|p| !p.is_empty());
            }
            Type::Number => {
                r.number_lower = self.number_lower.clone();
                r.number_upper = self.number_upper.clone();
            }
            t if t.is_collection() => {
                r.length_lower = self.length_lower.filter(|l| *l != 0);
                r.length_upper = self.length_upper;
            }
            _ => {}
        }
        r
    }
}

/// A cty value. Which variant is valid depends on the [`Type`] it is used
/// with: `Null` and `Unknown` are valid for every type.
#[derive(Debug, Clone, PartialEq)]
pub enum Value {
    Null,
    Unknown(Refinements),
    Bool(bool),
    Number(Number),
    String(String),
    List(Vec<Value>),
    Set(Vec<Value>),
    Map(BTreeMap<String, Value>),
    Tuple(Vec<Value>),
    Object(BTreeMap<String, Value>),
    /// A value decoded where the schema type is `dynamic`, with its concrete
    /// type, so it re-encodes identically. The inner value may itself be
    /// null or unknown (a typed null/unknown under a dynamic schema type).
    Dynamic(Box<Type>, Box<Value>),
}

static NULL: Value = Value::Null;

impl Value {
    pub fn string(s: impl Into<String>) -> Value {
        Value::String(s.into())
    }
    pub fn number_i64(n: i64) -> Value {
        Value::Number(Number::from_i64(n))
    }
    pub fn bool(b: bool) -> Value {
        Value::Bool(b)
    }
    pub fn object<'a>(attrs: impl IntoIterator<Item = (&'a str, Value)>) -> Value {
        Value::Object(attrs.into_iter().map(|(k, v)| (k.to_string(), v)).collect())
    }
    /// A wholly unknown value with no refinements.
    pub fn unknown() -> Value {
        Value::Unknown(Refinements::default())
    }
    /// An unknown value that is known not to be null.
    pub fn unknown_not_null() -> Value {
        Value::Unknown(Refinements {
            not_null: true,
            ..Default::default()
        })
    }

    /// Looks through a [`Value::Dynamic`] wrapper.
    pub fn unwrap_dynamic(&self) -> &Value {
        let mut v = self;
        while let Value::Dynamic(_, inner) = v {
            v = inner;
        }
        v
    }

    pub fn is_null(&self) -> bool {
        matches!(self.unwrap_dynamic(), Value::Null)
    }
    /// False only when the value itself (not a nested one) is unknown.
    pub fn is_known(&self) -> bool {
        !matches!(self.unwrap_dynamic(), Value::Unknown(_))
    }
    /// True when no unknown value appears anywhere inside.
    pub fn is_wholly_known(&self) -> bool {
        match self {
            Value::Unknown(_) => false,
            Value::List(vs) | Value::Set(vs) | Value::Tuple(vs) => {
                vs.iter().all(Value::is_wholly_known)
            }
            Value::Map(m) | Value::Object(m) => m.values().all(Value::is_wholly_known),
            Value::Dynamic(_, v) => v.is_wholly_known(),
            _ => true,
        }
    }
    pub fn as_str(&self) -> Option<&str> {
        match self.unwrap_dynamic() {
            Value::String(s) => Some(s),
            _ => None,
        }
    }
    pub fn as_bool(&self) -> Option<bool> {
        match self.unwrap_dynamic() {
            Value::Bool(b) => Some(*b),
            _ => None,
        }
    }
    pub fn as_number(&self) -> Option<&Number> {
        match self.unwrap_dynamic() {
            Value::Number(n) => Some(n),
            _ => None,
        }
    }
    /// The number as `i64` when it is integral and in range.
    pub fn as_i64(&self) -> Option<i64> {
        self.as_number().and_then(Number::to_i64)
    }
    /// Elements of a list, set or tuple.
    pub fn as_list(&self) -> Option<&[Value]> {
        match self.unwrap_dynamic() {
            Value::List(v) | Value::Set(v) | Value::Tuple(v) => Some(v),
            _ => None,
        }
    }
    /// Entries of a map (or of an object).
    pub fn as_map(&self) -> Option<&BTreeMap<String, Value>> {
        match self.unwrap_dynamic() {
            Value::Map(m) | Value::Object(m) => Some(m),
            _ => None,
        }
    }
    /// Attributes of an object (or entries of a map).
    pub fn as_object(&self) -> Option<&BTreeMap<String, Value>> {
        self.as_map()
    }
    /// An object attribute; `&Value::Null` when absent or when `self` is
    /// not an object/map.
    pub fn get(&self, attr: &str) -> &Value {
        match self.unwrap_dynamic() {
            Value::Object(m) | Value::Map(m) => m.get(attr).unwrap_or(&NULL),
            _ => &NULL,
        }
    }

    /// The type implied by a value on its own, used when a non-wrapped value
    /// is encoded under a `dynamic` schema type. Null/unknown elements imply
    /// `dynamic`; collections need all non-null elements to agree.
    pub fn implied_type(&self) -> Option<Type> {
        fn elem_type(vs: &mut dyn Iterator<Item = &Value>) -> Option<Type> {
            let mut found: Option<Type> = None;
            for v in vs {
                if matches!(v, Value::Null | Value::Unknown(_)) {
                    continue;
                }
                let t = v.implied_type()?;
                match &found {
                    None => found = Some(t),
                    Some(f) if *f == t => {}
                    Some(_) => return None,
                }
            }
            Some(found.unwrap_or(Type::Dynamic))
        }
        Some(match self {
            Value::Null | Value::Unknown(_) => Type::Dynamic,
            Value::Bool(_) => Type::Bool,
            Value::Number(_) => Type::Number,
            Value::String(_) => Type::String,
            Value::List(vs) => Type::list(elem_type(&mut vs.iter())?),
            Value::Set(vs) => Type::set(elem_type(&mut vs.iter())?),
            Value::Map(m) => Type::map(elem_type(&mut m.values())?),
            Value::Tuple(vs) => {
                Type::Tuple(vs.iter().map(Value::implied_type).collect::<Option<_>>()?)
            }
            Value::Object(m) => Type::Object {
                attrs: m
                    .iter()
                    .map(|(k, v)| Some((k.clone(), v.implied_type()?)))
                    .collect::<Option<_>>()?,
                optional: BTreeSet::new(),
            },
            Value::Dynamic(t, _) => (**t).clone(),
        })
    }

    /// Checks that the value has the shape of `ty`. Null and unknown conform
    /// to every type; object attributes missing from the value count as
    /// null, attributes not in the type are an error.
    pub fn conforms(&self, ty: &Type) -> Result<(), ValueError> {
        let mut path = AttrPath::default();
        conforms_at(self, ty, &mut path)
    }
}

/// A null value of the given type (cty nulls carry their type; ours don't).
pub fn null_for(_ty: &Type) -> Value {
    Value::Null
}

fn conforms_at(v: &Value, ty: &Type, path: &mut AttrPath) -> Result<(), ValueError> {
    let err = |path: &AttrPath, msg: String| ValueError::Conformance {
        path: path.to_string(),
        msg,
    };
    if path.depth() > MAX_DEPTH {
        return Err(err(path, "value is nested too deeply".into()));
    }
    match (v, ty) {
        (Value::Null | Value::Unknown(_), _) => Ok(()),
        (Value::Dynamic(t, inner), Type::Dynamic) => conforms_at(inner, t, path),
        (Value::Dynamic(t, inner), ty) => {
            if **t == *ty {
                conforms_at(inner, ty, path)
            } else {
                Err(err(
                    path,
                    format!("dynamic value of type {t} where {ty} is required"),
                ))
            }
        }
        (v, Type::Dynamic) => match v.implied_type() {
            Some(t) => conforms_at(v, &t, path),
            None => Err(err(
                path,
                "cannot determine the type of a value under a dynamic type".into(),
            )),
        },
        (Value::Bool(_), Type::Bool)
        | (Value::Number(_), Type::Number)
        | (Value::String(_), Type::String) => Ok(()),
        (Value::List(vs), Type::List(et)) | (Value::Set(vs), Type::Set(et)) => {
            for (i, e) in vs.iter().enumerate() {
                path.push(Step::Index(i));
                conforms_at(e, et, path)?;
                path.pop();
            }
            Ok(())
        }
        (Value::Map(m), Type::Map(et)) => {
            for (k, e) in m {
                path.push(Step::Key(k.clone()));
                conforms_at(e, et, path)?;
                path.pop();
            }
            Ok(())
        }
        (Value::Tuple(vs), Type::Tuple(ets)) => {
            if vs.len() != ets.len() {
                return Err(err(
                    path,
                    format!(
                        "a tuple of length {} is required (got {})",
                        ets.len(),
                        vs.len()
                    ),
                ));
            }
            for (i, (e, et)) in vs.iter().zip(ets).enumerate() {
                path.push(Step::Index(i));
                conforms_at(e, et, path)?;
                path.pop();
            }
            Ok(())
        }
        (Value::Object(m), Type::Object { attrs, .. }) => {
            for (k, e) in m {
                let Some(at) = attrs.get(k) else {
                    return Err(err(path, format!("unsupported attribute {k:?}")));
                };
                path.push(Step::Attr(k.clone()));
                conforms_at(e, at, path)?;
                path.pop();
            }
            Ok(())
        }
        (v, ty) => Err(err(
            path,
            format!("{} is required, got {}", ty, value_kind(v)),
        )),
    }
}

/// Short description of a value's kind, for error messages.
pub(crate) fn value_kind(v: &Value) -> &'static str {
    match v {
        Value::Null => "null",
        Value::Unknown(_) => "unknown value",
        Value::Bool(_) => "bool",
        Value::Number(_) => "number",
        Value::String(_) => "string",
        Value::List(_) => "list",
        Value::Set(_) => "set",
        Value::Map(_) => "map",
        Value::Tuple(_) => "tuple",
        Value::Object(_) => "object",
        Value::Dynamic(..) => "dynamic value",
    }
}
