//! cty-compatible msgpack encoding of values (`DynamicValue.msgpack`).
//!
//! Mirrors `github.com/zclconf/go-cty/cty/msgpack`: the encoder produces the
//! same bytes as cty (compact integers, float64 without compaction, `str8`
//! for 32..255-byte strings, dynamic type JSON as `bin`), and the decoder
//! accepts everything cty's decoder accepts (all integer widths, float32/64,
//! numbers as `str`/`bin` text, strings as `str` or `bin`).

use std::collections::BTreeMap;

use super::{AttrPath, MAX_DEPTH, Number, Refinements, Step, Type, Value, ValueError, value_kind};

/// Extension type code of a refined unknown value.
const EXT_REFINED_UNKNOWN: i8 = 0x0c;
/// Maximum payload size of a refinement extension (as in cty).
const MAX_REFINEMENT_LEN: usize = 1024;
/// String prefix refinements longer than this are truncated on encode.
const MAX_PREFIX_LEN: usize = 256;

const KEY_NULLNESS: i64 = 1;
const KEY_STRING_PREFIX: i64 = 2;
const KEY_NUMBER_MIN: i64 = 3;
const KEY_NUMBER_MAX: i64 = 4;
const KEY_LENGTH_MIN: i64 = 5;
const KEY_LENGTH_MAX: i64 = 6;

/// Wholly-unknown value: fixext1, type 0, one zero byte.
pub const UNKNOWN_BYTES: [u8; 3] = [0xd4, 0x00, 0x00];

// ---------------------------------------------------------------- encoding

/// Encodes `v` as msgpack for the schema type `ty`.
pub fn encode_msgpack(v: &Value, ty: &Type) -> Result<Vec<u8>, ValueError> {
    let mut e = Encoder {
        w: Writer::default(),
        path: AttrPath::default(),
    };
    e.value(v, ty)?;
    Ok(e.w.out)
}

#[derive(Default)]
struct Writer {
    out: Vec<u8>,
}

impl Writer {
    fn nil(&mut self) {
        self.out.push(0xc0);
    }
    fn bool(&mut self, b: bool) {
        self.out.push(if b { 0xc3 } else { 0xc2 });
    }
    fn uint(&mut self, n: u64) {
        if n <= 0x7f {
            self.out.push(n as u8);
        } else if n <= u8::MAX as u64 {
            self.out.extend_from_slice(&[0xcc, n as u8]);
        } else if n <= u16::MAX as u64 {
            self.out.push(0xcd);
            self.out.extend_from_slice(&(n as u16).to_be_bytes());
        } else if n <= u32::MAX as u64 {
            self.out.push(0xce);
            self.out.extend_from_slice(&(n as u32).to_be_bytes());
        } else {
            self.out.push(0xcf);
            self.out.extend_from_slice(&n.to_be_bytes());
        }
    }
    fn int(&mut self, n: i64) {
        if n >= 0 {
            self.uint(n as u64);
        } else if n >= -32 {
            self.out.push(n as u8);
        } else if n >= i8::MIN as i64 {
            self.out.extend_from_slice(&[0xd0, n as i8 as u8]);
        } else if n >= i16::MIN as i64 {
            self.out.push(0xd1);
            self.out.extend_from_slice(&(n as i16).to_be_bytes());
        } else if n >= i32::MIN as i64 {
            self.out.push(0xd2);
            self.out.extend_from_slice(&(n as i32).to_be_bytes());
        } else {
            self.out.push(0xd3);
            self.out.extend_from_slice(&n.to_be_bytes());
        }
    }
    fn float64(&mut self, f: f64) {
        self.out.push(0xcb);
        self.out.extend_from_slice(&f.to_bits().to_be_bytes());
    }
    fn len_header(
        &mut self,
        len: usize,
        fix_base: Option<(u8, usize)>,
        c8: Option<u8>,
        c16: u8,
        c32: u8,
    ) {
        if let Some((base, max)) = fix_base
            && len < max
        {
            self.out.push(base | len as u8);
        } else if let Some(c8) = c8.filter(|_| len <= u8::MAX as usize) {
            self.out.extend_from_slice(&[c8, len as u8]);
        } else if len <= u16::MAX as usize {
            self.out.push(c16);
            self.out.extend_from_slice(&(len as u16).to_be_bytes());
        } else {
            self.out.push(c32);
            self.out.extend_from_slice(&(len as u32).to_be_bytes());
        }
    }
    fn str(&mut self, s: &str) {
        self.len_header(s.len(), Some((0xa0, 32)), Some(0xd9), 0xda, 0xdb);
        self.out.extend_from_slice(s.as_bytes());
    }
    fn bin(&mut self, b: &[u8]) {
        self.len_header(b.len(), None, Some(0xc4), 0xc5, 0xc6);
        self.out.extend_from_slice(b);
    }
    fn array_len(&mut self, n: usize) {
        self.len_header(n, Some((0x90, 16)), None, 0xdc, 0xdd);
    }
    fn map_len(&mut self, n: usize) {
        self.len_header(n, Some((0x80, 16)), None, 0xde, 0xdf);
    }
    fn ext_header(&mut self, typ: i8, len: usize) {
        match len {
            1 => self.out.push(0xd4),
            2 => self.out.push(0xd5),
            4 => self.out.push(0xd6),
            8 => self.out.push(0xd7),
            16 => self.out.push(0xd8),
            _ => self.len_header(len, None, Some(0xc7), 0xc8, 0xc9),
        }
        self.out.push(typ as u8);
    }
    /// cty's number encoding: int when integral and within i64, float64
    /// when exactly representable and not integral, else decimal text.
    fn number(&mut self, n: &Number) {
        if let Some(i) = n.to_i64() {
            self.int(i);
        } else if let Some(f) = n.to_f64_exact().filter(|_| !n.is_integer()) {
            self.float64(f);
        } else {
            self.str(&n.to_string());
        }
    }
}

struct Encoder {
    w: Writer,
    path: AttrPath,
}

impl Encoder {
    fn err(&self, msg: impl Into<String>) -> ValueError {
        ValueError::Encode {
            path: self.path.to_string(),
            msg: msg.into(),
        }
    }

    fn value(&mut self, v: &Value, ty: &Type) -> Result<(), ValueError> {
        if self.path.depth() > MAX_DEPTH {
            return Err(self.err("value is nested too deeply"));
        }
        match (v, ty) {
            (Value::Dynamic(t, inner), Type::Dynamic) => self.dynamic(inner, t),
            (Value::Dynamic(t, inner), ty) => {
                if **t == *ty {
                    self.value(inner, ty)
                } else {
                    Err(self.err(format!("dynamic value of type {t} where {ty} is required")))
                }
            }
            (Value::Unknown(r), ty) => {
                self.unknown(r, ty);
                Ok(())
            }
            (Value::Null, _) => {
                self.w.nil();
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
                self.w.bool(*b);
                Ok(())
            }
            (Value::Number(n), Type::Number) => {
                self.w.number(n);
                Ok(())
            }
            (Value::String(s), Type::String) => {
                self.w.str(s);
                Ok(())
            }
            (Value::List(vs), Type::List(et)) | (Value::Set(vs), Type::Set(et)) => {
                self.w.array_len(vs.len());
                for (i, e) in vs.iter().enumerate() {
                    self.path.push(Step::Index(i));
                    self.value(e, et)?;
                    self.path.pop();
                }
                Ok(())
            }
            (Value::Map(m), Type::Map(et)) => {
                self.w.map_len(m.len());
                for (k, e) in m {
                    self.path.push(Step::Key(k.clone()));
                    self.w.str(k);
                    self.value(e, et)?;
                    self.path.pop();
                }
                Ok(())
            }
            (Value::Tuple(vs), Type::Tuple(ets)) => {
                if vs.len() != ets.len() {
                    return Err(self.err(format!("a tuple of length {} is required (got {})", ets.len(), vs.len())));
                }
                self.w.array_len(vs.len());
                for (i, (e, et)) in vs.iter().zip(ets).enumerate() {
                    self.path.push(Step::Index(i));
                    self.value(e, et)?;
                    self.path.pop();
                }
                Ok(())
            }
            (Value::Object(m), Type::Object { attrs, .. }) => {
                if let Some(k) = m.keys().find(|k| !attrs.contains_key(*k)) {
                    return Err(self.err(format!("unsupported attribute {k:?}")));
                }
                self.w.map_len(attrs.len());
                for (k, at) in attrs {
                    self.path.push(Step::Attr(k.clone()));
                    self.w.str(k);
                    self.value(m.get(k).unwrap_or(&Value::Null), at)?;
                    self.path.pop();
                }
                Ok(())
            }
            (v, ty) => Err(self.err(format!("{ty} is required, got {}", value_kind(v)))),
        }
    }

    fn dynamic(&mut self, v: &Value, t: &Type) -> Result<(), ValueError> {
        self.w.array_len(2);
        self.w.bin(&t.to_json_bytes());
        self.value(v, t)
    }

    fn unknown(&mut self, r: &Refinements, ty: &Type) {
        let r = r.restricted_to(ty);
        let mut body = Writer::default();
        let mut count = 0;
        if r.not_null {
            count += 1;
            body.int(KEY_NULLNESS);
            body.bool(false);
        }
        if let Some(prefix) = &r.string_prefix {
            let p = truncate_prefix(prefix);
            count += 1;
            body.int(KEY_STRING_PREFIX);
            body.str(p);
        }
        for (key, bound) in [
            (KEY_NUMBER_MIN, &r.number_lower),
            (KEY_NUMBER_MAX, &r.number_upper),
        ] {
            if let Some((n, inclusive)) = bound {
                count += 1;
                body.int(key);
                body.array_len(2);
                body.number(n);
                body.bool(*inclusive);
            }
        }
        for (key, bound) in [
            (KEY_LENGTH_MIN, r.length_lower),
            (KEY_LENGTH_MAX, r.length_upper),
        ] {
            if let Some(n) = bound {
                count += 1;
                body.int(key);
                body.uint(n);
            }
        }
        if count == 0 {
            self.w.out.extend_from_slice(&UNKNOWN_BYTES);
            return;
        }
        let mut payload = Writer::default();
        payload.map_len(count);
        payload.out.extend_from_slice(&body.out);
        self.w.ext_header(EXT_REFINED_UNKNOWN, payload.out.len());
        self.w.out.extend_from_slice(&payload.out);
    }
}

/// cty truncates string prefix refinements longer than 256 bytes to at most
/// 255 bytes (on a character boundary) so the refinement payload stays
/// within its decoder's 1 KiB limit.
fn truncate_prefix(p: &str) -> &str {
    if p.len() <= MAX_PREFIX_LEN {
        return p;
    }
    let mut end = MAX_PREFIX_LEN - 1;
    while !p.is_char_boundary(end) {
        end -= 1;
    }
    &p[..end]
}

// ---------------------------------------------------------------- decoding

/// Decodes msgpack bytes produced by Terraform for the schema type `ty`.
pub fn decode_msgpack(bytes: &[u8], ty: &Type) -> Result<Value, ValueError> {
    let mut d = Decoder {
        b: bytes,
        pos: 0,
        path: AttrPath::default(),
    };
    let v = d.value(ty)?;
    if d.pos != bytes.len() {
        return Err(d.err(format!("{} unexpected trailing bytes", bytes.len() - d.pos)));
    }
    Ok(v)
}

struct Decoder<'a> {
    b: &'a [u8],
    pos: usize,
    path: AttrPath,
}

fn is_ext(c: u8) -> bool {
    matches!(c, 0xd4..=0xd8 | 0xc7..=0xc9)
}

fn describe(c: u8) -> &'static str {
    match c {
        0x00..=0x7f | 0xe0..=0xff | 0xcc..=0xd3 => "integer",
        0x80..=0x8f | 0xde | 0xdf => "map",
        0x90..=0x9f | 0xdc | 0xdd => "array",
        0xa0..=0xbf | 0xd9..=0xdb => "string",
        0xc0 => "nil",
        0xc2 | 0xc3 => "bool",
        0xc4..=0xc6 => "binary",
        0xca | 0xcb => "float",
        0xc7..=0xc9 | 0xd4..=0xd8 => "extension",
        0xc1 => "reserved byte 0xc1",
    }
}

impl<'a> Decoder<'a> {
    fn err(&self, msg: impl Into<String>) -> ValueError {
        ValueError::Msgpack {
            path: self.path.to_string(),
            msg: msg.into(),
        }
    }

    fn peek(&self) -> Result<u8, ValueError> {
        self.b
            .get(self.pos)
            .copied()
            .ok_or_else(|| self.err("unexpected end of input"))
    }

    fn byte(&mut self) -> Result<u8, ValueError> {
        let c = self.peek()?;
        self.pos += 1;
        Ok(c)
    }

    fn take(&mut self, n: usize) -> Result<&'a [u8], ValueError> {
        if self.b.len() - self.pos < n {
            return Err(self.err("unexpected end of input"));
        }
        let s = &self.b[self.pos..self.pos + n];
        self.pos += n;
        Ok(s)
    }

    fn be(&mut self, n: usize) -> Result<u64, ValueError> {
        Ok(self
            .take(n)?
            .iter()
            .fold(0u64, |acc, b| (acc << 8) | *b as u64))
    }

    fn remaining(&self) -> usize {
        self.b.len() - self.pos
    }

    /// Reads any msgpack integer as i128 (covers both i64 and u64).
    fn int(&mut self, what: &str) -> Result<i128, ValueError> {
        let c = self.peek()?;
        let v = match c {
            0x00..=0x7f => {
                self.pos += 1;
                c as i128
            }
            0xe0..=0xff => {
                self.pos += 1;
                c as i8 as i128
            }
            0xcc => {
                self.pos += 1;
                self.be(1)? as i128
            }
            0xcd => {
                self.pos += 1;
                self.be(2)? as i128
            }
            0xce => {
                self.pos += 1;
                self.be(4)? as i128
            }
            0xcf => {
                self.pos += 1;
                self.be(8)? as i128
            }
            0xd0 => {
                self.pos += 1;
                self.be(1)? as u8 as i8 as i128
            }
            0xd1 => {
                self.pos += 1;
                self.be(2)? as u16 as i16 as i128
            }
            0xd2 => {
                self.pos += 1;
                self.be(4)? as u32 as i32 as i128
            }
            0xd3 => {
                self.pos += 1;
                self.be(8)? as i64 as i128
            }
            _ => return Err(self.err(format!("{what} is required, got {}", describe(c)))),
        };
        Ok(v)
    }

    fn bool(&mut self, what: &str) -> Result<bool, ValueError> {
        match self.peek()? {
            0xc2 => {
                self.pos += 1;
                Ok(false)
            }
            0xc3 => {
                self.pos += 1;
                Ok(true)
            }
            c => Err(self.err(format!("{what} is required, got {}", describe(c)))),
        }
    }

    /// Raw bytes of a `str` or `bin` item.
    fn raw_bytes(&mut self, what: &str) -> Result<&'a [u8], ValueError> {
        let c = self.peek()?;
        let len = match c {
            0xa0..=0xbf => {
                self.pos += 1;
                (c & 0x1f) as usize
            }
            0xd9 | 0xc4 => {
                self.pos += 1;
                self.be(1)? as usize
            }
            0xda | 0xc5 => {
                self.pos += 1;
                self.be(2)? as usize
            }
            0xdb | 0xc6 => {
                self.pos += 1;
                self.be(4)? as usize
            }
            _ => return Err(self.err(format!("{what} is required, got {}", describe(c)))),
        };
        self.take(len)
    }

    fn string(&mut self, what: &str) -> Result<String, ValueError> {
        let raw = self.raw_bytes(what)?;
        match std::str::from_utf8(raw) {
            Ok(s) => Ok(s.to_string()),
            Err(_) => Err(self.err(format!("{what} is not valid UTF-8"))),
        }
    }

    fn array_len(&mut self, what: &str) -> Result<usize, ValueError> {
        let c = self.peek()?;
        match c {
            0x90..=0x9f => {
                self.pos += 1;
                Ok((c & 0x0f) as usize)
            }
            0xdc => {
                self.pos += 1;
                Ok(self.be(2)? as usize)
            }
            0xdd => {
                self.pos += 1;
                Ok(self.be(4)? as usize)
            }
            _ => Err(self.err(format!("{what} is required, got {}", describe(c)))),
        }
    }

    fn map_len(&mut self, what: &str) -> Result<usize, ValueError> {
        let c = self.peek()?;
        match c {
            0x80..=0x8f => {
                self.pos += 1;
                Ok((c & 0x0f) as usize)
            }
            0xde => {
                self.pos += 1;
                Ok(self.be(2)? as usize)
            }
            0xdf => {
                self.pos += 1;
                Ok(self.be(4)? as usize)
            }
            _ => Err(self.err(format!("{what} is required, got {}", describe(c)))),
        }
    }

    fn ext_header(&mut self) -> Result<(i8, usize), ValueError> {
        let c = self.byte()?;
        let len = match c {
            0xd4 => 1,
            0xd5 => 2,
            0xd6 => 4,
            0xd7 => 8,
            0xd8 => 16,
            0xc7 => self.be(1)? as usize,
            0xc8 => self.be(2)? as usize,
            0xc9 => self.be(4)? as usize,
            _ => return Err(self.err("extension code is required for unknown value")),
        };
        let typ = self.byte()? as i8;
        Ok((typ, len))
    }

    /// Skips one msgpack item of any kind.
    fn skip(&mut self, depth: usize) -> Result<(), ValueError> {
        if depth > MAX_DEPTH {
            return Err(self.err("msgpack data is nested too deeply"));
        }
        let c = self.byte()?;
        let (fixed, items) = match c {
            0x00..=0x7f | 0xe0..=0xff | 0xc0 | 0xc2 | 0xc3 => (0, 0),
            0x80..=0x8f => (0, 2 * (c & 0x0f) as usize),
            0x90..=0x9f => (0, (c & 0x0f) as usize),
            0xa0..=0xbf => ((c & 0x1f) as usize, 0),
            0xc4 | 0xd9 => (self.be(1)? as usize, 0),
            0xc5 | 0xda => (self.be(2)? as usize, 0),
            0xc6 | 0xdb => (self.be(4)? as usize, 0),
            0xc7 => (self.be(1)? as usize + 1, 0),
            0xc8 => (self.be(2)? as usize + 1, 0),
            0xc9 => (self.be(4)? as usize + 1, 0),
            0xca => (4, 0),
            0xcb => (8, 0),
            0xcc | 0xd0 => (1, 0),
            0xcd | 0xd1 => (2, 0),
            0xce | 0xd2 => (4, 0),
            0xcf | 0xd3 => (8, 0),
            0xd4 => (2, 0),
            0xd5 => (3, 0),
            0xd6 => (5, 0),
            0xd7 => (9, 0),
            0xd8 => (17, 0),
            0xdc => (0, self.be(2)? as usize),
            0xdd => (0, self.be(4)? as usize),
            0xde => (0, 2 * self.be(2)? as usize),
            0xdf => (0, 2 * self.be(4)? as usize),
            0xc1 => return Err(self.err("invalid msgpack byte 0xc1")),
        };
        self.take(fixed)?;
        for _ in 0..items {
            self.skip(depth + 1)?;
        }
        Ok(())
    }

    fn value(&mut self, ty: &Type) -> Result<Value, ValueError> {
        if self.path.depth() > MAX_DEPTH {
            return Err(self.err("value is nested too deeply"));
        }
        let c = self.peek()?;
        if is_ext(c) {
            // Like cty, every extension value is taken as an unknown value.
            return self.unknown(ty);
        }
        if *ty == Type::Dynamic {
            return self.dynamic();
        }
        if c == 0xc0 {
            self.pos += 1;
            return Ok(Value::Null);
        }
        match ty {
            Type::Bool => Ok(Value::Bool(self.bool("bool")?)),
            Type::Number => match self.number()? {
                Some(n) => Ok(Value::Number(n)),
                None => Err(self.err("infinite numbers are not supported")),
            },
            Type::String => Ok(Value::String(self.string("string")?)),
            Type::List(et) => Ok(Value::List(self.elements(et, "list")?)),
            Type::Set(et) => Ok(Value::Set(self.elements(et, "set")?)),
            Type::Map(et) => {
                let n = self.map_len("map")?;
                let mut m = BTreeMap::new();
                for _ in 0..n {
                    let k = self.string("map key")?;
                    self.path.push(Step::Key(k.clone()));
                    let v = self.value(et)?;
                    self.path.pop();
                    m.insert(k, v);
                }
                Ok(Value::Map(m))
            }
            Type::Tuple(ets) => {
                let n = self.array_len("tuple")?;
                if n != ets.len() {
                    return Err(self.err(format!(
                        "a tuple of length {} is required (got {n})",
                        ets.len()
                    )));
                }
                let mut vs = Vec::with_capacity(n);
                for (i, et) in ets.iter().enumerate() {
                    self.path.push(Step::Index(i));
                    vs.push(self.value(et)?);
                    self.path.pop();
                }
                Ok(Value::Tuple(vs))
            }
            Type::Object { attrs, .. } => {
                let n = self.map_len("object")?;
                let mut m = BTreeMap::new();
                for _ in 0..n {
                    let k = self.string("attribute name")?;
                    let Some(at) = attrs.get(&k) else {
                        return Err(self.err(format!("unsupported attribute {k:?}")));
                    };
                    self.path.push(Step::Attr(k.clone()));
                    let v = self.value(at)?;
                    self.path.pop();
                    m.insert(k, v);
                }
                for k in attrs.keys() {
                    if !m.contains_key(k) {
                        m.insert(k.clone(), Value::Null);
                    }
                }
                Ok(Value::Object(m))
            }
            Type::Dynamic => unreachable!("handled above"),
        }
    }

    fn elements(&mut self, et: &Type, what: &str) -> Result<Vec<Value>, ValueError> {
        let n = self.array_len(what)?;
        // Each element takes at least one byte: don't trust huge lengths.
        let mut vs = Vec::with_capacity(n.min(self.remaining()));
        for i in 0..n {
            self.path.push(Step::Index(i));
            vs.push(self.value(et)?);
            self.path.pop();
        }
        Ok(vs)
    }

    /// Decodes a number; `None` means an infinite float.
    fn number(&mut self) -> Result<Option<Number>, ValueError> {
        let c = self.peek()?;
        match c {
            0xca => {
                self.pos += 1;
                let f = f32::from_bits(self.be(4)? as u32) as f64;
                self.float(f)
            }
            0xcb => {
                self.pos += 1;
                let f = f64::from_bits(self.be(8)?);
                self.float(f)
            }
            0xa0..=0xbf | 0xd9..=0xdb | 0xc4..=0xc6 => {
                let raw = self.raw_bytes("number")?;
                let text = std::str::from_utf8(raw).map_err(|_| self.err("number is required"))?;
                match text.parse::<Number>() {
                    Ok(n) => Ok(Some(n)),
                    Err(e) => Err(self.err(format!("number is required: {e}"))),
                }
            }
            _ => {
                let i = self.int("number")?;
                Ok(Some(if i < 0 {
                    Number::from_i64(i as i64)
                } else {
                    Number::from_u64(i as u64)
                }))
            }
        }
    }

    fn float(&self, f: f64) -> Result<Option<Number>, ValueError> {
        if f.is_nan() {
            return Err(self.err("NaN is not a valid number"));
        }
        Ok(Number::from_f64_exact(f))
    }

    fn dynamic(&mut self) -> Result<Value, ValueError> {
        if self.peek()? == 0xc0 {
            self.pos += 1;
            return Ok(Value::Null);
        }
        let n = self.array_len("dynamic value array")?;
        if n != 2 {
            return Err(self.err("dynamic value array must have exactly two elements"));
        }
        let raw = self.raw_bytes("dynamic value type")?;
        let ty = Type::from_json(raw).map_err(|e| self.err(e.to_string()))?;
        let v = self.value(&ty)?;
        Ok(Value::Dynamic(Box::new(ty), Box::new(v)))
    }

    fn unknown(&mut self, ty: &Type) -> Result<Value, ValueError> {
        let (typ, len) = self.ext_header()?;
        if len <= 1 {
            self.take(len)?;
            return Ok(Value::Unknown(Refinements::default()));
        }
        if typ != EXT_REFINED_UNKNOWN {
            return Err(self.err(format!(
                "unsupported extension type 0x{:02x} with len {len}",
                typ as u8
            )));
        }
        if len > MAX_REFINEMENT_LEN {
            return Err(self.err("oversize unknown value refinement"));
        }
        let body = self.take(len)?;
        let mut sub = Decoder {
            b: body,
            pos: 0,
            path: self.path.clone(),
        };
        let n = sub
            .map_len("refinement map")
            .map_err(|_| self.err("failed to decode msgpack extension body: not a map"))?;
        if *ty == Type::Dynamic {
            // cty silently ignores refinements of dynamic-typed unknowns.
            return Ok(Value::Unknown(Refinements::default()));
        }
        let mut r = Refinements::default();
        let mut definitely_null = false;
        for _ in 0..n {
            let key = sub.int("integer refinement key")?;
            match i64::try_from(key).unwrap_or(-1) {
                KEY_NULLNESS => {
                    if sub.bool("null refinement")? {
                        definitely_null = true;
                    } else {
                        r.not_null = true;
                    }
                }
                KEY_STRING_PREFIX => {
                    if *ty != Type::String {
                        return Err(self.err("string prefix refinement for non-string type"));
                    }
                    // Normalized like the encoder does, so that
                    // decode -> encode -> decode is stable.
                    let p = sub.string("string prefix refinement")?;
                    r.string_prefix =
                        Some(truncate_prefix(&p).to_string()).filter(|p| !p.is_empty());
                }
                k @ (KEY_LENGTH_MIN | KEY_LENGTH_MAX) => {
                    if !ty.is_collection() {
                        return Err(self.err("length bound refinement for non-collection type"));
                    }
                    let b = sub.int("length bound refinement")?;
                    let b = u64::try_from(b)
                        .map_err(|_| self.err("negative length bound refinement"))?;
                    if k == KEY_LENGTH_MIN {
                        // A lower bound of zero is no bound.
                        r.length_lower = Some(b).filter(|b| *b != 0);
                    } else {
                        r.length_upper = Some(b);
                    }
                }
                k @ (KEY_NUMBER_MIN | KEY_NUMBER_MAX) => {
                    if *ty != Type::Number {
                        return Err(self.err("numeric bound refinement for non-number type"));
                    }
                    let bad =
                        |s: &Self| s.err("number bound refinement must be a [number, bool] array");
                    if sub.array_len("number bound").map_err(|_| bad(self))? != 2 {
                        return Err(bad(self));
                    }
                    let bound = sub.number().map_err(|_| bad(self))?;
                    let inclusive = sub.bool("bool").map_err(|_| bad(self))?;
                    // An infinite bound is no bound at all.
                    if let Some(b) = bound {
                        if k == KEY_NUMBER_MIN {
                            r.number_lower = Some((b, inclusive));
                        } else {
                            r.number_upper = Some((b, inclusive));
                        }
                    }
                }
                _ => sub.skip(0)?, // unknown keys are reserved for future use
            }
        }
        // Trailing bytes in the payload are ignored, as in cty.
        if definitely_null {
            return Ok(Value::Null);
        }
        Ok(Value::Unknown(r))
    }
}
