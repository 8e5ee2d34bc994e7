//! Arbitrary-precision decimal numbers for Terraform's `number` type.
//!
//! cty represents numbers as `big.Float` values with a 512-bit mantissa.
//! We store an exact, normalized decimal instead: `(-1)^neg * digits * 10^exp`
//! where `digits` has no leading and no trailing zeros (zero is the empty
//! digit string with `neg == false`). Because the representation is
//! normalized, structural equality and hashing coincide with numeric
//! equality (`1.0 == 1`, `-0 == 0`).
//!
//! Infinities and NaN are not representable: decoders report an error for
//! them (except inside refinement bounds, where an infinite bound simply
//! means "no bound").

use std::cmp::Ordering;
use std::fmt;
use std::str::FromStr;

use super::ValueError;

/// Largest supported magnitude of the decimal exponent of the most
/// significant digit. This keeps `Display` output bounded (a number like
/// `1e999999999` would otherwise expand to a gigabyte of zeros).
pub const MAX_DECIMAL_EXPONENT: i64 = 10_000;

/// An exact decimal number of arbitrary precision.
#[derive(Clone, PartialEq, Eq, Hash)]
pub struct Number {
    neg: bool,
    /// Decimal digits (values 0..=9), most significant first; no leading or
    /// trailing zeros. Empty for zero.
    digits: Vec<u8>,
    exp: i64,
}

impl Number {
    /// The number zero.
    pub fn zero() -> Number {
        Number {
            neg: false,
            digits: Vec::new(),
            exp: 0,
        }
    }

    /// Builds a normalized number, checking the exponent range.
    fn from_parts(neg: bool, mut digits: Vec<u8>, mut exp: i64) -> Result<Number, String> {
        let lead = digits.iter().take_while(|d| **d == 0).count();
        digits.drain(..lead);
        while let Some(&0) = digits.last() {
            digits.pop();
            exp = exp.saturating_add(1);
        }
        if digits.is_empty() {
            return Ok(Number::zero());
        }
        let top = exp.saturating_add(digits.len() as i64);
        if !(-MAX_DECIMAL_EXPONENT..=MAX_DECIMAL_EXPONENT).contains(&top) {
            return Err("number is outside the supported range".to_string());
        }
        Ok(Number { neg, digits, exp })
    }

    pub fn from_i64(v: i64) -> Number {
        let mut n = Number::from_u64(v.unsigned_abs());
        n.neg = v < 0;
        n
    }

    pub fn from_u64(v: u64) -> Number {
        let digits: Vec<u8> = v.to_string().bytes().map(|b| b - b'0').collect();
        Number::from_parts(false, digits, 0).expect("u64 is always in range")
    }

    /// Converts a finite `f64` using its *shortest* round-tripping decimal
    /// representation (so `from_f64(0.1)` is exactly `0.1`, which is what a
    /// user typing `0.1` in configuration gets). Returns `None` for NaN and
    /// infinities.
    pub fn from_f64(v: f64) -> Option<Number> {
        if !v.is_finite() {
            return None;
        }
        format!("{v:e}").parse().ok()
    }

    /// Converts a finite `f64` to the exact decimal value of its binary
    /// representation (e.g. `0.1f64` becomes
    /// `0.1000000000000000055511151231257827021181583404541015625`).
    /// This is what cty does when it decodes a msgpack float.
    pub fn from_f64_exact(v: f64) -> Option<Number> {
        if !v.is_finite() {
            return None;
        }
        if v == 0.0 {
            return Some(Number::zero());
        }
        let bits = v.to_bits();
        let neg = bits >> 63 == 1;
        let biased = ((bits >> 52) & 0x7ff) as i64;
        let frac = bits & ((1u64 << 52) - 1);
        let (mant, e2) = if biased == 0 {
            (frac, -1074i64)
        } else {
            (frac | (1u64 << 52), biased - 1075)
        };
        // value = mant * 2^e2
        let mut big = BigDec::from_u64(mant);
        let exp10 = if e2 >= 0 { 0 } else { e2 };
        if e2 >= 0 {
            let mut k = e2;
            while k > 0 {
                let step = k.min(31);
                big.mul_small(1u64 << step);
                k -= step;
            }
        } else {
            // mant * 2^-k = mant * 5^k / 10^k
            let mut k = -e2;
            while k > 0 {
                let step = k.min(13);
                big.mul_small(5u64.pow(step as u32));
                k -= step;
            }
        }
        Number::from_parts(neg, big.to_digits(), exp10).ok()
    }

    /// True when the number has no fractional part.
    pub fn is_integer(&self) -> bool {
        self.exp >= 0
    }

    pub fn is_zero(&self) -> bool {
        self.digits.is_empty()
    }

    pub fn is_negative(&self) -> bool {
        self.neg
    }

    /// The value as `i64`, only when it is integral and in range.
    pub fn to_i64(&self) -> Option<i64> {
        let mag = self.integer_magnitude()?;
        if self.neg {
            if mag <= (i64::MAX as u128) + 1 {
                Some((mag as i128).wrapping_neg() as i64)
            } else {
                None
            }
        } else {
            i64::try_from(mag).ok()
        }
    }

    /// The value as `u64`, only when it is integral, non-negative and in range.
    pub fn to_u64(&self) -> Option<u64> {
        if self.neg {
            return None;
        }
        u64::try_from(self.integer_magnitude()?).ok()
    }

    fn integer_magnitude(&self) -> Option<u128> {
        if self.exp < 0 {
            return None;
        }
        if self.digits.len() as i64 + self.exp > 20 {
            return None;
        }
        let mut acc: u128 = 0;
        for d in &self.digits {
            acc = acc * 10 + *d as u128;
        }
        for _ in 0..self.exp {
            acc *= 10;
        }
        Some(acc)
    }

    /// Nearest `f64` (correctly rounded; may be infinite for huge values).
    pub fn to_f64(&self) -> f64 {
        if self.is_zero() {
            return 0.0;
        }
        self.scientific().parse().unwrap_or(f64::NAN)
    }

    /// The `f64` equal to this number, if it is exactly representable.
    pub fn to_f64_exact(&self) -> Option<f64> {
        if self.is_zero() {
            return Some(0.0);
        }
        // An f64 has at most 767 significant decimal digits.
        if self.digits.len() > 800 {
            return None;
        }
        let f = self.to_f64();
        if !f.is_finite() {
            return None;
        }
        match Number::from_f64_exact(f) {
            Some(back) if back == *self => Some(f),
            _ => None,
        }
    }

    /// `[-]DIGITSeEXP` form, used for float conversion.
    fn scientific(&self) -> String {
        let mut s = String::with_capacity(self.digits.len() + 8);
        if self.neg {
            s.push('-');
        }
        for d in &self.digits {
            s.push((b'0' + d) as char);
        }
        s.push('e');
        s.push_str(&self.exp.to_string());
        s
    }

    fn cmp_magnitude(&self, other: &Number) -> Ordering {
        match (self.is_zero(), other.is_zero()) {
            (true, true) => return Ordering::Equal,
            (true, false) => return Ordering::Less,
            (false, true) => return Ordering::Greater,
            _ => {}
        }
        let a = self.exp + self.digits.len() as i64;
        let b = other.exp + other.digits.len() as i64;
        a.cmp(&b).then_with(|| self.digits.cmp(&other.digits))
    }
}

impl Default for Number {
    fn default() -> Self {
        Number::zero()
    }
}

impl Ord for Number {
    fn cmp(&self, other: &Number) -> Ordering {
        let sign = |n: &Number| -> i8 {
            if n.is_zero() {
                0
            } else if n.neg {
                -1
            } else {
                1
            }
        };
        match sign(self).cmp(&sign(other)) {
            Ordering::Equal => {
                let m = self.cmp_magnitude(other);
                if self.neg { m.reverse() } else { m }
            }
            o => o,
        }
    }
}

impl PartialOrd for Number {
    fn partial_cmp(&self, other: &Number) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}

impl fmt::Display for Number {
    /// Plain decimal notation, never an exponent (like Go's
    /// `big.Float.Text('f', -1)`).
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.is_zero() {
            return f.write_str("0");
        }
        let len = self.digits.len() as i64;
        let mut s = String::with_capacity((len + self.exp.abs() + 3) as usize);
        if self.neg {
            s.push('-');
        }
        let digit = |d: &u8| (b'0' + d) as char;
        if self.exp >= 0 {
            s.extend(self.digits.iter().map(digit));
            s.extend(std::iter::repeat_n('0', self.exp as usize));
        } else {
            let point = len + self.exp;
            if point > 0 {
                let (int, frac) = self.digits.split_at(point as usize);
                s.extend(int.iter().map(digit));
                s.push('.');
                s.extend(frac.iter().map(digit));
            } else {
                s.push_str("0.");
                s.extend(std::iter::repeat_n('0', (-point) as usize));
                s.extend(self.digits.iter().map(digit));
            }
        }
        f.write_str(&s)
    }
}

impl fmt::Debug for Number {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Number({self})")
    }
}

impl FromStr for Number {
    type Err = ValueError;

    /// Parses `[+-]digits[.digits][(e|E)[+-]digits]` (a leading or trailing
    /// point such as `.5` / `5.` is accepted, like Go's `big.ParseFloat`).
    fn from_str(s: &str) -> Result<Number, ValueError> {
        let err = |why: &str| ValueError::Number {
            text: truncate_for_error(s),
            reason: why.to_string(),
        };
        let b = s.as_bytes();
        let mut i = 0;
        let mut neg = false;
        if i < b.len() && (b[i] == b'+' || b[i] == b'-') {
            neg = b[i] == b'-';
            i += 1;
        }
        let mut digits = Vec::new();
        let mut frac_len: i64 = 0;
        let mut seen_digit = false;
        while i < b.len() && b[i].is_ascii_digit() {
            digits.push(b[i] - b'0');
            seen_digit = true;
            i += 1;
        }
        if i < b.len() && b[i] == b'.' {
            i += 1;
            while i < b.len() && b[i].is_ascii_digit() {
                digits.push(b[i] - b'0');
                frac_len += 1;
                seen_digit = true;
                i += 1;
            }
        }
        if !seen_digit {
            return Err(err("a number is required"));
        }
        let mut exp: i64 = 0;
        if i < b.len() && (b[i] == b'e' || b[i] == b'E') {
            i += 1;
            let mut eneg = false;
            if i < b.len() && (b[i] == b'+' || b[i] == b'-') {
                eneg = b[i] == b'-';
                i += 1;
            }
            let start = i;
            while i < b.len() && b[i].is_ascii_digit() {
                exp = exp.saturating_mul(10).saturating_add((b[i] - b'0') as i64);
                // Clamp early: anything this large is out of range anyway
                // unless the digits are all zero.
                exp = exp.min(i64::MAX / 4);
                i += 1;
            }
            if i == start {
                return Err(err("missing exponent digits"));
            }
            if eneg {
                exp = -exp;
            }
        }
        if i != b.len() {
            return Err(err("unexpected characters in number"));
        }
        Number::from_parts(neg, digits, exp.saturating_sub(frac_len)).map_err(|r| err(&r))
    }
}

fn truncate_for_error(s: &str) -> String {
    if s.len() <= 64 {
        return s.to_string();
    }
    let mut end = 64;
    while !s.is_char_boundary(end) {
        end -= 1;
    }
    format!("{}…", &s[..end])
}

impl From<i64> for Number {
    fn from(v: i64) -> Number {
        Number::from_i64(v)
    }
}

impl From<i32> for Number {
    fn from(v: i32) -> Number {
        Number::from_i64(v as i64)
    }
}

impl From<u64> for Number {
    fn from(v: u64) -> Number {
        Number::from_u64(v)
    }
}

impl From<u32> for Number {
    fn from(v: u32) -> Number {
        Number::from_u64(v as u64)
    }
}

/// Minimal unsigned big integer in base 10^9 (little-endian limbs), just
/// enough for exact float-to-decimal conversion.
struct BigDec {
    limbs: Vec<u64>,
}

const LIMB: u64 = 1_000_000_000;

impl BigDec {
    fn from_u64(mut v: u64) -> BigDec {
        let mut limbs = Vec::new();
        while v > 0 {
            limbs.push(v % LIMB);
            v /= LIMB;
        }
        BigDec { limbs }
    }

    /// Multiplies by `m` (must be < 2^32).
    fn mul_small(&mut self, m: u64) {
        let mut carry = 0u64;
        for l in self.limbs.iter_mut() {
            let p = *l * m + carry;
            *l = p % LIMB;
            carry = p / LIMB;
        }
        while carry > 0 {
            self.limbs.push(carry % LIMB);
            carry /= LIMB;
        }
    }

    fn to_digits(&self) -> Vec<u8> {
        let mut out = Vec::with_capacity(self.limbs.len() * 9);
        for (i, l) in self.limbs.iter().rev().enumerate() {
            let s = if i == 0 {
                l.to_string()
            } else {
                format!("{l:09}")
            };
            out.extend(s.bytes().map(|b| b - b'0'));
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn n(s: &str) -> Number {
        s.parse().unwrap()
    }

    #[test]
    fn parse_and_display() {
        for (input, want) in [
            ("0", "0"),
            ("-0", "0"),
            ("+12", "12"),
            ("1.0", "1"),
            ("0.1", "0.1"),
            ("-0.001", "-0.001"),
            ("1e3", "1000"),
            ("1.5E-3", "0.0015"),
            ("123.456e1", "1234.56"),
            (".5", "0.5"),
            ("5.", "5"),
            ("00012.3400", "12.34"),
            ("9223372036854775808000", "9223372036854775808000"),
            ("-18446744073709551616", "-18446744073709551616"),
        ] {
            assert_eq!(n(input).to_string(), want, "input {input}");
        }
        for bad in [
            "", "-", ".", "e5", "1e", "1e+", "1.2.3", "abc", "1 ", " 1", "Inf", "NaN", "0x10",
            "1e99999",
        ] {
            assert!(bad.parse::<Number>().is_err(), "{bad:?} should not parse");
        }
        // Huge exponent with zero mantissa is just zero.
        assert_eq!(n("0e999999999999").to_string(), "0");
    }

    #[test]
    fn equality_and_order() {
        assert_eq!(n("1.0"), n("1"));
        assert_eq!(n("1.0"), Number::from_i64(1));
        assert!(n("-1") < n("0"));
        assert!(n("0.1") < n("0.11"));
        assert!(n("0.11") < n("0.2"));
        assert!(n("-0.11") < n("-0.1"));
        assert!(n("99") < n("100"));
        assert!(n("-100") < n("-99"));
        assert!(n("1e-9") > n("0"));
    }

    #[test]
    fn integer_conversions() {
        assert_eq!(Number::from_i64(i64::MIN).to_i64(), Some(i64::MIN));
        assert_eq!(Number::from_i64(i64::MAX).to_i64(), Some(i64::MAX));
        assert_eq!(n("9223372036854775808").to_i64(), None);
        assert_eq!(n("9223372036854775808").to_u64(), Some(9223372036854775808));
        assert_eq!(n("-9223372036854775809").to_i64(), None);
        assert_eq!(n("1.5").to_i64(), None);
        assert_eq!(n("1e3").to_i64(), Some(1000));
        assert_eq!(n("1e30").to_i64(), None);
        assert_eq!(
            Number::from_u64(u64::MAX).to_string(),
            "18446744073709551615"
        );
        assert!(n("2.0").is_integer());
        assert!(!n("2.5").is_integer());
    }

    #[test]
    fn float_conversions() {
        assert_eq!(Number::from_f64(0.1).unwrap().to_string(), "0.1");
        assert_eq!(Number::from_f64(-2.5).unwrap().to_string(), "-2.5");
        assert_eq!(
            Number::from_f64(1e21).unwrap().to_string(),
            "1000000000000000000000"
        );
        assert!(Number::from_f64(f64::INFINITY).is_none());
        assert!(Number::from_f64(f64::NAN).is_none());
        assert_eq!(
            Number::from_f64_exact(0.1).unwrap().to_string(),
            "0.1000000000000000055511151231257827021181583404541015625"
        );
        assert_eq!(Number::from_f64_exact(0.5).unwrap().to_string(), "0.5");
        assert_eq!(Number::from_f64_exact(-3.0).unwrap().to_string(), "-3");
        assert_eq!(
            Number::from_f64_exact(2f64.powi(70)).unwrap().to_string(),
            "1180591620717411303424"
        );
        let tiny = Number::from_f64_exact(f64::from_bits(1)).unwrap();
        assert_eq!(tiny.to_f64(), f64::from_bits(1));
        assert_eq!(tiny.to_f64_exact(), Some(f64::from_bits(1)));
        assert_eq!(n("0.5").to_f64_exact(), Some(0.5));
        assert_eq!(n("0.1").to_f64_exact(), None);
        assert_eq!(n("0.1").to_f64(), 0.1);
        assert_eq!(
            Number::from_f64_exact(f64::MAX).unwrap().to_f64_exact(),
            Some(f64::MAX)
        );
    }

    proptest! {
        #[test]
        fn text_round_trip(neg in any::<bool>(), digits in "[0-9]{1,40}", frac in "[0-9]{0,40}", exp in -300i64..300) {
            let s = format!("{}{}.{}e{}", if neg { "-" } else { "" }, digits, if frac.is_empty() { "0" } else { &frac }, exp);
            let a: Number = s.parse().unwrap();
            let b: Number = a.to_string().parse().unwrap();
            prop_assert_eq!(&a, &b);
            prop_assert_eq!(a.to_string(), b.to_string());
        }

        #[test]
        fn f64_exact_round_trip(bits in any::<u64>()) {
            let f = f64::from_bits(bits);
            if f.is_finite() {
                let e = Number::from_f64_exact(f).unwrap();
                prop_assert_eq!(e.to_f64(), if f == 0.0 { 0.0 } else { f });
                prop_assert_eq!(e.to_f64_exact().map(f64::to_bits), Some(if f == 0.0 { 0 } else { bits }));
                let s = Number::from_f64(f).unwrap();
                prop_assert_eq!(s.to_f64(), if f == 0.0 { 0.0 } else { f });
            }
        }

        #[test]
        fn i64_round_trip(v in any::<i64>()) {
            let a = Number::from_i64(v);
            prop_assert_eq!(a.to_i64(), Some(v));
            prop_assert_eq!(a.to_string(), v.to_string());
            prop_assert_eq!(a.to_string().parse::<Number>().unwrap(), a);
        }

        #[test]
        fn order_matches_f64(a in -1e6f64..1e6, b in -1e6f64..1e6) {
            let na = Number::from_f64_exact(a).unwrap();
            let nb = Number::from_f64_exact(b).unwrap();
            prop_assert_eq!(na.cmp(&nb), a.partial_cmp(&b).unwrap());
        }
    }
}
