//! cty-compatible JSON encoding of values (`DynamicValue.json`, and the
//! `RawState.json` used by UpgradeResourceState).
//!
//! Numbers are parsed from their exact JSON text (never through `f64`), so
//! big and decimal numbers survive unchanged. Like cty's JSON decoder, a
//! string is accepted where a number or bool is expected (`"12"`,
//! `"true"`/`"1"`/`"false"`/`"0"`), and numbers and bools are accepted
//! where a string is expected. Unknown values cannot be represented.

use std::collections::BTreeMap;
use std::fmt::Write as _;

use super::{AttrPath, MAX_DEPTH, Number, Step, Type, Value, ValueError, value_kind};

// ---------------------------------------------------------------- encoding

/// Encodes `v` as cty JSON for the schema type `ty`.
pub fn encode_json(v: &Value, ty: &Type) -> Result<Vec<u8>, ValueError> {
    let mut e = Encoder {
        out: String::new(),
        path: AttrPath::default(),
    };
    e.value(v, ty)?;
    Ok(e.out.into_bytes())
}

struct Encoder {
    out: String,
    path: AttrPath,
}

impl Encoder {
    fn err(&self, msg: impl Into<String>) -> ValueError {
        ValueError::Encode {
            path: self.path.to_string(),
            msg: msg.into(),
        }
    }

    fn str(&mut self, s: &str) {
        self.out
            .push_str(&serde_json::to_string(s).expect("string serialization cannot fail"));
    }

    fn value(&mut self, v: &Value, ty: &Type) -> Result<(), ValueError> {
        if self.path.depth() > MAX_DEPTH {
            return Err(self.err("value is nested too deeply"));
        }
        match (v, ty) {
            (Value::Unknown(_), _) => Err(self.err("value is not known; unknown values cannot be encoded as JSON")),
            (Value::Dynamic(t, inner), Type::Dynamic) => self.dynamic(inner, t),
            (Value::Dynamic(t, inner), ty) => {
                if **t == *ty {
                    self.value(inner, ty)
                } else {
                    Err(self.err(format!("dynamic value of type {t} where {ty} is required")))
                }
            }
            (Value::Null, _) => {
                self.out.push_str("null");
                Ok(())
            }
            (v, Type::Dynamic) => match v.implied_type() {
                Some(t) => self.dynamic(v, &t),
                None => Err(self.err(format!(
                    "cannot determine the type of a {} under a dynamic type; wrap it in Value::Dynamic",
                    value_kind(v)
                ))),
            },
            (Value::Bool(b), Type::Bool) => {
                self.out.push_str(if *b { "true" } else { "false" });
                Ok(())
            }
            (Value::Number(n), Type::Number) => {
                let _ = write!(self.out, "{n}");
                Ok(())
            }
            (Value::String(s), Type::String) => {
                self.str(s);
                Ok(())
            }
            (Value::List(vs), Type::List(et)) | (Value::Set(vs), Type::Set(et)) => {
                self.out.push('[');
                for (i, e) in vs.iter().enumerate() {
                    if i > 0 {
                        self.out.push(',');
                    }
                    self.path.push(Step::Index(i));
                    self.value(e, et)?;
                    self.path.pop();
                }
                self.out.push(']');
                Ok(())
            }
            (Value::Tuple(vs), Type::Tuple(ets)) => {
                if vs.len() != ets.len() {
                    return Err(self.err(format!("a tuple of length {} is required (got {})", ets.len(), vs.len())));
                }
                self.out.push('[');
                for (i, (e, et)) in vs.iter().zip(ets).enumerate() {
                    if i > 0 {
                        self.out.push(',');
                    }
                    self.path.push(Step::Index(i));
                    self.value(e, et)?;
                    self.path.pop();
                }
                self.out.push(']');
                Ok(())
            }
            (Value::Map(m), Type::Map(et)) => {
                self.out.push('{');
                for (i, (k, e)) in m.iter().enumerate() {
                    if i > 0 {
                        self.out.push(',');
                    }
                    self.path.push(Step::Key(k.clone()));
                    self.str(k);
                    self.out.push(':');
                    self.value(e, et)?;
                    self.path.pop();
                }
                self.out.push('}');
                Ok(())
            }
            (Value::Object(m), Type::Object { attrs, .. }) => {
                if let Some(k) = m.keys().find(|k| !attrs.contains_key(*k)) {
                    return Err(self.err(format!("unsupported attribute {k:?}")));
                }
                self.out.push('{');
                for (i, (k, at)) in attrs.iter().enumerate() {
                    if i > 0 {
                        self.out.push(',');
                    }
                    self.path.push(Step::Attr(k.clone()));
                    self.str(k);
                    self.out.push(':');
                    self.value(m.get(k).unwrap_or(&Value::Null), at)?;
                    self.path.pop();
                }
                self.out.push('}');
                Ok(())
            }
            (v, ty) => Err(self.err(format!("{ty} is required, got {}", value_kind(v)))),
        }
    }

    fn dynamic(&mut self, v: &Value, t: &Type) -> Result<(), ValueError> {
        self.out.push_str("{\"value\":");
        self.value(v, t)?;
        self.out.push_str(",\"type\":");
        self.out.push_str(&t.to_json().to_string());
        self.out.push('}');
        Ok(())
    }
}

// ---------------------------------------------------------------- decoding

/// Decodes cty JSON for the schema type `ty`. Unknown object attributes are
/// an error; absent ones are null.
pub fn decode_json(bytes: &[u8], ty: &Type) -> Result<Value, ValueError> {
    let doc = parse_document(bytes)?;
    Conv {
        path: AttrPath::default(),
        ignore_unknown_attrs: false,
    }
    .value(&doc, ty)
}

/// Decodes a stored state JSON object against the current schema type,
/// dropping attributes (at any depth) that no longer exist in the schema and
/// filling absent ones with null. This is what UpgradeResourceState does
/// when the schema version is unchanged.
pub fn upgrade_json_state(raw_json: &[u8], ty: &Type) -> Result<Value, ValueError> {
    let doc = parse_document(raw_json)?;
    Conv {
        path: AttrPath::default(),
        ignore_unknown_attrs: true,
    }
    .value(&doc, ty)
}

/// Parsed JSON with number text preserved.
#[derive(Debug, Clone, PartialEq)]
enum J {
    Null,
    Bool(bool),
    Num(String),
    Str(String),
    Arr(Vec<J>),
    Obj(Vec<(String, J)>),
}

impl J {
    fn kind(&self) -> &'static str {
        match self {
            J::Null => "null",
            J::Bool(_) => "bool",
            J::Num(_) => "number",
            J::Str(_) => "string",
            J::Arr(_) => "array",
            J::Obj(_) => "object",
        }
    }

    fn to_serde(&self) -> serde_json::Value {
        use serde_json::Value as S;
        match self {
            J::Null => S::Null,
            J::Bool(b) => S::Bool(*b),
            J::Num(t) => serde_json::from_str(t).unwrap_or(S::Null),
            J::Str(s) => S::String(s.clone()),
            J::Arr(v) => S::Array(v.iter().map(J::to_serde).collect()),
            J::Obj(v) => S::Object(v.iter().map(|(k, v)| (k.clone(), v.to_serde())).collect()),
        }
    }
}

fn parse_document(bytes: &[u8]) -> Result<J, ValueError> {
    let text = std::str::from_utf8(bytes).map_err(|e| ValueError::Json {
        path: "(root)".into(),
        msg: format!("input is not valid UTF-8: {e}"),
    })?;
    let mut p = Parser {
        s: text,
        b: bytes,
        pos: 0,
    };
    let v = p.value(0)?;
    p.ws();
    if p.pos != bytes.len() {
        return Err(p.err("unexpected data after the top-level value"));
    }
    Ok(v)
}

struct Parser<'a> {
    s: &'a str,
    b: &'a [u8],
    pos: usize,
}

impl<'a> Parser<'a> {
    fn err(&self, msg: &str) -> ValueError {
        ValueError::Json {
            path: "(root)".into(),
            msg: format!("syntax error at byte {}: {msg}", self.pos),
        }
    }

    fn ws(&mut self) {
        while let Some(b' ' | b'\t' | b'\n' | b'\r') = self.b.get(self.pos) {
            self.pos += 1;
        }
    }

    fn expect_lit(&mut self, lit: &str, v: J) -> Result<J, ValueError> {
        if self.b[self.pos..].starts_with(lit.as_bytes()) {
            self.pos += lit.len();
            Ok(v)
        } else {
            Err(self.err("invalid literal"))
        }
    }

    fn value(&mut self, depth: usize) -> Result<J, ValueError> {
        if depth > MAX_DEPTH {
            return Err(self.err("JSON is nested too deeply"));
        }
        self.ws();
        match self.b.get(self.pos) {
            None => Err(self.err("unexpected end of input")),
            Some(b'n') => self.expect_lit("null", J::Null),
            Some(b't') => self.expect_lit("true", J::Bool(true)),
            Some(b'f') => self.expect_lit("false", J::Bool(false)),
            Some(b'"') => Ok(J::Str(self.string()?)),
            Some(b'-' | b'0'..=b'9') => self.number(),
            Some(b'[') => {
                self.pos += 1;
                let mut items = Vec::new();
                self.ws();
                if self.b.get(self.pos) == Some(&b']') {
                    self.pos += 1;
                    return Ok(J::Arr(items));
                }
                loop {
                    items.push(self.value(depth + 1)?);
                    self.ws();
                    match self.b.get(self.pos) {
                        Some(b',') => self.pos += 1,
                        Some(b']') => {
                            self.pos += 1;
                            return Ok(J::Arr(items));
                        }
                        _ => return Err(self.err("expected ',' or ']'")),
                    }
                }
            }
            Some(b'{') => {
                self.pos += 1;
                let mut items = Vec::new();
                self.ws();
                if self.b.get(self.pos) == Some(&b'}') {
                    self.pos += 1;
                    return Ok(J::Obj(items));
                }
                loop {
                    self.ws();
                    if self.b.get(self.pos) != Some(&b'"') {
                        return Err(self.err("expected object key"));
                    }
                    let k = self.string()?;
                    self.ws();
                    if self.b.get(self.pos) != Some(&b':') {
                        return Err(self.err("expected ':'"));
                    }
                    self.pos += 1;
                    let v = self.value(depth + 1)?;
                    items.push((k, v));
                    self.ws();
                    match self.b.get(self.pos) {
                        Some(b',') => self.pos += 1,
                        Some(b'}') => {
                            self.pos += 1;
                            return Ok(J::Obj(items));
                        }
                        _ => return Err(self.err("expected ',' or '}'")),
                    }
                }
            }
            Some(_) => Err(self.err("unexpected character")),
        }
    }

    fn digits(&mut self) -> usize {
        let start = self.pos;
        while let Some(b'0'..=b'9') = self.b.get(self.pos) {
            self.pos += 1;
        }
        self.pos - start
    }

    fn number(&mut self) -> Result<J, ValueError> {
        let start = self.pos;
        if self.b[self.pos] == b'-' {
            self.pos += 1;
        }
        match self.b.get(self.pos) {
            Some(b'0') => self.pos += 1,
            Some(b'1'..=b'9') => {
                self.digits();
            }
            _ => return Err(self.err("invalid number")),
        }
        if self.b.get(self.pos) == Some(&b'.') {
            self.pos += 1;
            if self.digits() == 0 {
                return Err(self.err("invalid number"));
            }
        }
        if let Some(b'e' | b'E') = self.b.get(self.pos) {
            self.pos += 1;
            if let Some(b'+' | b'-') = self.b.get(self.pos) {
                self.pos += 1;
            }
            if self.digits() == 0 {
                return Err(self.err("invalid number"));
            }
        }
        Ok(J::Num(self.s[start..self.pos].to_string()))
    }

    fn hex4(&mut self) -> Result<u32, ValueError> {
        let h = self
            .b
            .get(self.pos..self.pos + 4)
            .ok_or_else(|| self.err("truncated \\u escape"))?;
        let s = std::str::from_utf8(h).map_err(|_| self.err("invalid \\u escape"))?;
        let v = u32::from_str_radix(s, 16).map_err(|_| self.err("invalid \\u escape"))?;
        if !h.iter().all(u8::is_ascii_hexdigit) {
            return Err(self.err("invalid \\u escape"));
        }
        self.pos += 4;
        Ok(v)
    }

    fn string(&mut self) -> Result<String, ValueError> {
        self.pos += 1; // opening quote
        let mut out = String::new();
        let mut run = self.pos;
        loop {
            let Some(&c) = self.b.get(self.pos) else {
                return Err(self.err("unterminated string"));
            };
            match c {
                b'"' => {
                    out.push_str(&self.s[run..self.pos]);
                    self.pos += 1;
                    return Ok(out);
                }
                b'\\' => {
                    out.push_str(&self.s[run..self.pos]);
                    self.pos += 1;
                    let Some(&e) = self.b.get(self.pos) else {
                        return Err(self.err("unterminated string"));
                    };
                    self.pos += 1;
                    match e {
                        b'"' => out.push('"'),
                        b'\\' => out.push('\\'),
                        b'/' => out.push('/'),
                        b'b' => out.push('\u{8}'),
                        b'f' => out.push('\u{c}'),
                        b'n' => out.push('\n'),
                        b'r' => out.push('\r'),
                        b't' => out.push('\t'),
                        b'u' => {
                            let hi = self.hex4()?;
                            let ch = if (0xd800..0xdc00).contains(&hi) {
                                // Try to combine with a following low surrogate.
                                if self.b[self.pos..].starts_with(b"\\u") {
                                    let save = self.pos;
                                    self.pos += 2;
                                    let lo = self.hex4()?;
                                    if (0xdc00..0xe000).contains(&lo) {
                                        char::from_u32(
                                            0x10000 + ((hi - 0xd800) << 10) + (lo - 0xdc00),
                                        )
                                    } else {
                                        self.pos = save;
                                        None
                                    }
                                } else {
                                    None
                                }
                            } else {
                                char::from_u32(hi)
                            };
                            // Lone surrogates become U+FFFD, as in Go.
                            out.push(ch.unwrap_or('\u{fffd}'));
                        }
                        _ => return Err(self.err("invalid escape in string")),
                    }
                    run = self.pos;
                }
                0x00..=0x1f => return Err(self.err("control character in string")),
                _ => self.pos += 1,
            }
        }
    }
}

struct Conv {
    path: AttrPath,
    ignore_unknown_attrs: bool,
}

impl Conv {
    fn err(&self, msg: impl Into<String>) -> ValueError {
        ValueError::Json {
            path: self.path.to_string(),
            msg: msg.into(),
        }
    }

    fn value(&mut self, j: &J, ty: &Type) -> Result<Value, ValueError> {
        if self.path.depth() > MAX_DEPTH {
            return Err(self.err("value is nested too deeply"));
        }
        if *j == J::Null {
            return Ok(Value::Null);
        }
        let wrong = |s: &Self| s.err(format!("{ty} is required, got {}", j.kind()));
        match ty {
            Type::Dynamic => self.dynamic(j),
            Type::Bool => match j {
                J::Bool(b) => Ok(Value::Bool(*b)),
                J::Str(s) => match s.as_str() {
                    "true" | "1" => Ok(Value::Bool(true)),
                    "false" | "0" => Ok(Value::Bool(false)),
                    _ => Err(self.err("a bool is required")),
                },
                _ => Err(wrong(self)),
            },
            Type::Number => match j {
                J::Num(t) | J::Str(t) => t
                    .parse::<Number>()
                    .map(Value::Number)
                    .map_err(|e| self.err(format!("a number is required: {e}"))),
                _ => Err(wrong(self)),
            },
            Type::String => match j {
                J::Str(s) => Ok(Value::String(s.clone())),
                J::Num(t) => Ok(Value::String(t.clone())),
                J::Bool(b) => Ok(Value::String(b.to_string())),
                _ => Err(wrong(self)),
            },
            Type::List(et) | Type::Set(et) => {
                let J::Arr(items) = j else {
                    return Err(wrong(self));
                };
                let mut vs = Vec::with_capacity(items.len());
                for (i, e) in items.iter().enumerate() {
                    self.path.push(Step::Index(i));
                    vs.push(self.value(e, et)?);
                    self.path.pop();
                }
                Ok(if matches!(ty, Type::List(_)) {
                    Value::List(vs)
                } else {
                    Value::Set(vs)
                })
            }
            Type::Tuple(ets) => {
                let J::Arr(items) = j else {
                    return Err(wrong(self));
                };
                if items.len() != ets.len() {
                    return Err(self.err(format!(
                        "a tuple of length {} is required (got {})",
                        ets.len(),
                        items.len()
                    )));
                }
                let mut vs = Vec::with_capacity(items.len());
                for (i, (e, et)) in items.iter().zip(ets).enumerate() {
                    self.path.push(Step::Index(i));
                    vs.push(self.value(e, et)?);
                    self.path.pop();
                }
                Ok(Value::Tuple(vs))
            }
            Type::Map(et) => {
                let J::Obj(items) = j else {
                    return Err(wrong(self));
                };
                let mut m = BTreeMap::new();
                for (k, e) in items {
                    self.path.push(Step::Key(k.clone()));
                    let v = self.value(e, et)?;
                    self.path.pop();
                    m.insert(k.clone(), v);
                }
                Ok(Value::Map(m))
            }
            Type::Object { attrs, .. } => {
                let J::Obj(items) = j else {
                    return Err(wrong(self));
                };
                let mut m = BTreeMap::new();
                for (k, e) in items {
                    let Some(at) = attrs.get(k) else {
                        if self.ignore_unknown_attrs {
                            continue;
                        }
                        return Err(self.err(format!("unsupported attribute {k:?}")));
                    };
                    self.path.push(Step::Attr(k.clone()));
                    let v = self.value(e, at)?;
                    self.path.pop();
                    m.insert(k.clone(), v);
                }
                for k in attrs.keys() {
                    if !m.contains_key(k) {
                        m.insert(k.clone(), Value::Null);
                    }
                }
                Ok(Value::Object(m))
            }
        }
    }

    fn dynamic(&mut self, j: &J) -> Result<Value, ValueError> {
        let J::Obj(items) = j else {
            return Err(self.err(format!(
                "a dynamically-typed value must be an object with \"value\" and \"type\", got {}",
                j.kind()
            )));
        };
        let mut ty = None;
        let mut body = None;
        for (k, v) in items {
            match k.as_str() {
                "type" => {
                    ty = Some(Type::from_json_value(&v.to_serde()).map_err(|e| {
                        self.err(format!("failed to decode type for dynamic value: {e}"))
                    })?)
                }
                "value" => body = Some(v),
                other => {
                    return Err(
                        self.err(format!("invalid key {other:?} in dynamically-typed value"))
                    );
                }
            }
        }
        let ty = ty.ok_or_else(|| self.err("missing type in dynamically-typed value"))?;
        let body = body.ok_or_else(|| self.err("missing value in dynamically-typed value"))?;
        let v = self.value(body, &ty)?;
        Ok(Value::Dynamic(Box::new(ty), Box::new(v)))
    }
}
