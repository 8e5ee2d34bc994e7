//! Exact parsing of Kubernetes resource quantities (`5Gi`, `200G`, `500m`, `1.5Ti`, `1e3`).
//!
//! The grammar is the one of `k8s.io/apimachinery/pkg/api/resource`:
//!
//! ```text
//! quantity        ::= signedNumber suffix
//! signedNumber    ::= [ "+" | "-" ] number
//! number          ::= digits | digits "." digits | digits "." | "." digits
//! suffix          ::= binarySI | decimalSI | decimalExponent
//! binarySI        ::= Ki | Mi | Gi | Ti | Pi | Ei
//! decimalSI       ::= n | u | m | "" | k | M | G | T | P | E
//! decimalExponent ::= ("e" | "E") signedNumber   (an integer exponent)
//! ```
//!
//! The value is stored exactly as an `i128` count of nano-units (10^-9), the finest precision
//! Kubernetes keeps. Like Kubernetes, a value with a finer fraction than one nano-unit is rounded
//! up to the next nano-unit. The original text is kept and returned by `Display`, so a value can be
//! shown back to the user exactly as written.

use std::cmp::Ordering;
use std::fmt;
use std::str::FromStr;

/// Nano-units per unit.
const NANOS_PER_UNIT: i128 = 1_000_000_000;

/// A parsed Kubernetes quantity.
///
/// Equality and ordering compare the numeric value (`1Gi == 1024Mi`); `Display` and
/// [`Quantity::as_str`] return the text as the user wrote it.
#[derive(Debug, Clone)]
pub struct Quantity {
    text: String,
    nanos: i128,
}

/// A string that is not a Kubernetes quantity, or one too large to hold.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum QuantityError {
    /// The text does not follow the quantity grammar.
    #[error("`{value}` is not a Kubernetes quantity{}: use a number with a suffix such as 5Gi or 200G", hint_text(.hint))]
    Invalid {
        /// The text as written.
        value: String,
        /// A corrected spelling, when an obvious one exists (`5GiB` -> `5Gi`).
        hint: Option<String>,
    },
    /// The text is a quantity but its value does not fit (more than about 10^29 units).
    #[error("`{value}` is out of range for a Kubernetes quantity")]
    OutOfRange {
        /// The text as written.
        value: String,
    },
}

fn hint_text(hint: &Option<String>) -> String {
    match hint {
        Some(h) => format!(" (did you mean `{h}`?)"),
        None => String::new(),
    }
}

impl QuantityError {
    /// The corrected spelling, when an obvious one exists (`5GiB` -> `5Gi`).
    pub fn hint(&self) -> Option<&str> {
        match self {
            QuantityError::Invalid { hint, .. } => hint.as_deref(),
            QuantityError::OutOfRange { .. } => None,
        }
    }

    /// The text that failed to parse, as written.
    pub fn value(&self) -> &str {
        match self {
            QuantityError::Invalid { value, .. } | QuantityError::OutOfRange { value } => value,
        }
    }
}

enum Suffix {
    /// Multiply by 10^exp.
    Decimal(i32),
    /// Multiply by 2^exp.
    Binary(u32),
}

fn parse_suffix(s: &str) -> Option<Suffix> {
    Some(match s {
        "" => Suffix::Decimal(0),
        "n" => Suffix::Decimal(-9),
        "u" => Suffix::Decimal(-6),
        "m" => Suffix::Decimal(-3),
        "k" => Suffix::Decimal(3),
        "M" => Suffix::Decimal(6),
        "G" => Suffix::Decimal(9),
        "T" => Suffix::Decimal(12),
        "P" => Suffix::Decimal(15),
        "E" => Suffix::Decimal(18),
        "Ki" => Suffix::Binary(10),
        "Mi" => Suffix::Binary(20),
        "Gi" => Suffix::Binary(30),
        "Ti" => Suffix::Binary(40),
        "Pi" => Suffix::Binary(50),
        "Ei" => Suffix::Binary(60),
        _ => {
            let rest = s.strip_prefix('e').or_else(|| s.strip_prefix('E'))?;
            let (neg, digits) = match rest.as_bytes().first()? {
                b'+' => (false, &rest[1..]),
                b'-' => (true, &rest[1..]),
                _ => (false, rest),
            };
            if digits.is_empty() || !digits.bytes().all(|b| b.is_ascii_digit()) {
                return None;
            }
            // Exponents beyond this are out of range anyway; clamp to keep arithmetic simple.
            let e: i32 = digits.parse::<i32>().unwrap_or(i32::MAX).min(1000);
            Suffix::Decimal(if neg { -e } else { e })
        }
    })
}

fn pow10(exp: u32) -> Option<i128> {
    10i128.checked_pow(exp)
}

enum ParseFail {
    Invalid,
    OutOfRange,
}

fn parse_nanos(s: &str) -> Result<i128, ParseFail> {
    let bytes = s.as_bytes();
    let mut i = 0;
    let negative = match bytes.first() {
        Some(b'+') => {
            i = 1;
            false
        }
        Some(b'-') => {
            i = 1;
            true
        }
        _ => false,
    };
    let int_start = i;
    while i < bytes.len() && bytes[i].is_ascii_digit() {
        i += 1;
    }
    let int_digits = &s[int_start..i];
    let mut frac_digits = "";
    if i < bytes.len() && bytes[i] == b'.' {
        i += 1;
        let frac_start = i;
        while i < bytes.len() && bytes[i].is_ascii_digit() {
            i += 1;
        }
        frac_digits = &s[frac_start..i];
    }
    if int_digits.is_empty() && frac_digits.is_empty() {
        return Err(ParseFail::Invalid);
    }
    let suffix = parse_suffix(&s[i..]).ok_or(ParseFail::Invalid)?;

    // mantissa = all digits as one integer; value = mantissa * 10^(-frac_len) * suffix.
    let all_digits: String = int_digits.chars().chain(frac_digits.chars()).collect();
    let trimmed = all_digits.trim_start_matches('0');
    let mantissa: i128 = if trimmed.is_empty() {
        0
    } else if trimmed.len() > 38 {
        return Err(ParseFail::OutOfRange);
    } else {
        trimmed.parse().map_err(|_| ParseFail::OutOfRange)?
    };
    let frac_len = frac_digits.len() as i64;
    let (dec_exp, bin_exp) = match suffix {
        Suffix::Decimal(e) => (i64::from(e), 0u32),
        Suffix::Binary(b) => (0, b),
    };
    // Scale to nano-units.
    let shift = dec_exp - frac_len + 9;
    let mut value = mantissa
        .checked_mul(1i128 << bin_exp)
        .ok_or(ParseFail::OutOfRange)?;
    if value != 0 {
        if shift >= 0 {
            let factor = u32::try_from(shift)
                .ok()
                .and_then(pow10)
                .ok_or(ParseFail::OutOfRange)?;
            value = value.checked_mul(factor).ok_or(ParseFail::OutOfRange)?;
        } else {
            // Round up to the next nano-unit, as Kubernetes does.
            value = match u32::try_from(-shift).ok().and_then(pow10) {
                Some(div) => (value + div - 1) / div,
                None => 1,
            };
        }
    }
    Ok(if negative { -value } else { value })
}

/// Corrections for common mistakes, tried in order; the first that parses is offered as a hint.
fn guess_fix(s: &str) -> Option<String> {
    let no_space: String = s.chars().filter(|c| !c.is_whitespace()).collect();
    let mut candidates = vec![no_space.clone()];
    // `5GiB`, `5GB`, `5Gib`: drop a trailing byte unit.
    for tail in ["iB", "ib", "B", "b"] {
        if let Some(stem) = no_space.strip_suffix(tail) {
            if tail.starts_with('i') {
                candidates.push(format!("{stem}i"));
            } else {
                candidates.push(stem.to_string());
            }
        }
    }
    // Wrong case in the suffix: `5gi` -> `5Gi`, `5g` -> `5G`, `5K` -> `5k`, `5KB` -> `5k`.
    let mut more = Vec::new();
    for c in &candidates {
        let split = c
            .find(|ch: char| ch.is_ascii_alphabetic())
            .unwrap_or(c.len());
        let (num, suf) = c.split_at(split);
        let fixed = match suf {
            "ki" | "KI" | "Ki" | "kI" | "KiB" => Some("Ki"),
            "mi" | "MI" | "mI" => Some("Mi"),
            "gi" | "GI" | "gI" => Some("Gi"),
            "ti" | "TI" | "tI" => Some("Ti"),
            "pi" | "PI" | "pI" => Some("Pi"),
            "ei" | "EI" | "eI" => Some("Ei"),
            "K" => Some("k"),
            "g" => Some("G"),
            "t" => Some("T"),
            "p" => Some("P"),
            _ => None,
        };
        if let Some(f) = fixed {
            more.push(format!("{num}{f}"));
        }
    }
    candidates.extend(more);
    candidates
        .into_iter()
        .find(|c| c != s && parse_nanos(c).is_ok())
}

impl Quantity {
    /// Parses `text` as a Kubernetes quantity.
    pub fn parse(text: &str) -> Result<Quantity, QuantityError> {
        match parse_nanos(text) {
            Ok(nanos) => Ok(Quantity {
                text: text.to_string(),
                nanos,
            }),
            Err(ParseFail::Invalid) => Err(QuantityError::Invalid {
                value: text.to_string(),
                hint: guess_fix(text),
            }),
            Err(ParseFail::OutOfRange) => Err(QuantityError::OutOfRange {
                value: text.to_string(),
            }),
        }
    }

    /// A quantity of `bytes` units, written with the largest exact suffix (`128Gi`, `16G`, `1500`).
    pub fn from_units(units: u128) -> Quantity {
        let text = format_units(units);
        let nanos = i128::try_from(units)
            .ok()
            .and_then(|u| u.checked_mul(NANOS_PER_UNIT))
            .unwrap_or(i128::MAX);
        Quantity { text, nanos }
    }

    /// The text as written.
    pub fn as_str(&self) -> &str {
        &self.text
    }

    /// The exact value in nano-units (10^-9).
    pub fn as_nanos(&self) -> i128 {
        self.nanos
    }

    /// The value in milli-units, rounded up (Kubernetes `MilliValue`).
    pub fn as_millis(&self) -> i128 {
        div_ceil(self.nanos, 1_000_000)
    }

    /// The value in whole units, rounded up (Kubernetes `Value`).
    pub fn value_ceil(&self) -> i128 {
        div_ceil(self.nanos, NANOS_PER_UNIT)
    }

    /// True when the value is a whole number of units (`1.5Gi` is, `500m` is not).
    pub fn is_whole(&self) -> bool {
        self.nanos % NANOS_PER_UNIT == 0
    }

    /// True when the value is below zero.
    pub fn is_negative(&self) -> bool {
        self.nanos < 0
    }

    /// True when the value is zero.
    pub fn is_zero(&self) -> bool {
        self.nanos == 0
    }

    /// The value as a count of bytes: `None` when negative or not a whole number.
    pub fn bytes(&self) -> Option<u128> {
        if self.nanos < 0 || !self.is_whole() {
            return None;
        }
        u128::try_from(self.nanos / NANOS_PER_UNIT).ok()
    }

    /// The value as a whole count (CPU cores, sockets): `None` when negative, fractional or
    /// larger than `u32`.
    pub fn whole_u32(&self) -> Option<u32> {
        self.bytes().and_then(|b| u32::try_from(b).ok())
    }
}

fn div_ceil(a: i128, b: i128) -> i128 {
    let q = a / b;
    if a % b != 0 && a > 0 { q + 1 } else { q }
}

/// Writes a count of units with the exact suffix that gives the fewest characters, binary on a tie
/// (`34359738368` -> `32Gi`, `16000000000` -> `16G`, `1500` -> `1500`).
pub fn format_units(units: u128) -> String {
    const SUFFIXES: [(&str, u128); 12] = [
        ("Ei", 1 << 60),
        ("Pi", 1 << 50),
        ("Ti", 1 << 40),
        ("Gi", 1 << 30),
        ("Mi", 1 << 20),
        ("Ki", 1 << 10),
        ("E", 1_000_000_000_000_000_000),
        ("P", 1_000_000_000_000_000),
        ("T", 1_000_000_000_000),
        ("G", 1_000_000_000),
        ("M", 1_000_000),
        ("k", 1_000),
    ];
    let mut best = units.to_string();
    if units == 0 {
        return best;
    }
    for (suffix, unit) in SUFFIXES {
        if units.is_multiple_of(unit) {
            let s = format!("{}{suffix}", units / unit);
            if s.len() < best.len() {
                best = s;
            }
        }
    }
    best
}

impl fmt::Display for Quantity {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.text)
    }
}

impl FromStr for Quantity {
    type Err = QuantityError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Quantity::parse(s)
    }
}

impl PartialEq for Quantity {
    fn eq(&self, other: &Self) -> bool {
        self.nanos == other.nanos
    }
}

impl Eq for Quantity {}

impl PartialOrd for Quantity {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}

impl Ord for Quantity {
    fn cmp(&self, other: &Self) -> Ordering {
        self.nanos.cmp(&other.nanos)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const GI: u128 = 1 << 30;

    fn bytes(s: &str) -> Option<u128> {
        Quantity::parse(s).unwrap().bytes()
    }

    #[test]
    fn parses_good_values_exactly() {
        let cases: &[(&str, u128)] = &[
            ("5Gi", 5 * GI),
            ("200G", 200_000_000_000),
            ("1.5Ti", 3 * (1 << 39)),
            ("512Mi", 512 << 20),
            ("1Ki", 1024),
            ("1Ei", 1 << 60),
            ("2Pi", 2 << 50),
            ("1k", 1000),
            ("1M", 1_000_000),
            ("3T", 3_000_000_000_000),
            ("1P", 1_000_000_000_000_000),
            ("1E", 1_000_000_000_000_000_000),
            ("1e3", 1000),
            ("1E3", 1000),
            ("1.5e3", 1500),
            ("2e+2", 200),
            ("123", 123),
            ("+4Gi", 4 * GI),
            ("0", 0),
            ("0Gi", 0),
            ("007", 7),
            ("1.", 1),
            (".5k", 500),
            ("0.5Gi", GI / 2),
            ("4Gi", 4 * GI),
            ("4096Mi", 4 * GI),
        ];
        for (text, want) in cases {
            assert_eq!(bytes(text), Some(*want), "{text}");
        }
    }

    #[test]
    fn fractional_and_milli_values() {
        let q = Quantity::parse("500m").unwrap();
        assert_eq!(q.as_millis(), 500);
        assert_eq!(q.as_nanos(), 500_000_000);
        assert_eq!(q.bytes(), None);
        assert!(!q.is_whole());
        assert_eq!(q.value_ceil(), 1);
        assert_eq!(Quantity::parse("1n").unwrap().as_nanos(), 1);
        assert_eq!(Quantity::parse("250u").unwrap().as_nanos(), 250_000);
        assert_eq!(Quantity::parse("1e-3").unwrap().as_millis(), 1);
        assert_eq!(Quantity::parse("2.5").unwrap().as_millis(), 2500);
        // Finer than a nano-unit rounds up, like Kubernetes.
        assert_eq!(Quantity::parse("0.0000000001").unwrap().as_nanos(), 1);
        assert_eq!(Quantity::parse("1e-20").unwrap().as_nanos(), 1);
        assert_eq!(Quantity::parse("0e-20").unwrap().as_nanos(), 0);
    }

    #[test]
    fn negative_values_parse_but_have_no_bytes() {
        let q = Quantity::parse("-5Gi").unwrap();
        assert!(q.is_negative());
        assert_eq!(q.bytes(), None);
        assert_eq!(q.as_millis(), -5 * (GI as i128) * 1000);
    }

    #[test]
    fn display_keeps_the_original_text_and_equality_is_numeric() {
        let a = Quantity::parse("1Gi").unwrap();
        let b = Quantity::parse("1024Mi").unwrap();
        assert_eq!(a.to_string(), "1Gi");
        assert_eq!(b.to_string(), "1024Mi");
        assert_eq!(a, b);
        assert!(Quantity::parse("1G").unwrap() < a);
        assert!("2Gi".parse::<Quantity>().unwrap() > a);
    }

    #[test]
    fn rejects_bad_values_and_quotes_them() {
        for bad in [
            "", "Gi", "5GiB", "5gi", "5 Gi", "5g", "5K", "abc", "1.2.3", "--1", "1e", "1e+",
            "5Gi ", " 5Gi", "0x10", "1_000", "5Mb", "1.5.Gi", ".", "+", "1ee3", "1Gi1",
        ] {
            let err = Quantity::parse(bad).unwrap_err();
            assert_eq!(err.value(), bad);
            let msg = err.to_string();
            assert!(
                msg.starts_with(&format!("`{bad}` is not a Kubernetes quantity")),
                "{msg}"
            );
            assert!(
                msg.ends_with("use a number with a suffix such as 5Gi or 200G"),
                "{msg}"
            );
        }
    }

    #[test]
    fn error_message_matches_the_documented_form() {
        assert_eq!(
            Quantity::parse("abc").unwrap_err().to_string(),
            "`abc` is not a Kubernetes quantity: use a number with a suffix such as 5Gi or 200G"
        );
    }

    #[test]
    fn suggests_obvious_corrections() {
        let hint = |s: &str| match Quantity::parse(s).unwrap_err() {
            QuantityError::Invalid { hint, .. } => hint,
            other => panic!("{other:?}"),
        };
        assert_eq!(hint("5GiB").as_deref(), Some("5Gi"));
        assert_eq!(hint("5GB").as_deref(), Some("5G"));
        assert_eq!(hint("5gi").as_deref(), Some("5Gi"));
        assert_eq!(hint("5 Gi").as_deref(), Some("5Gi"));
        assert_eq!(hint("5K").as_deref(), Some("5k"));
        assert_eq!(hint("abc"), None);
        assert_eq!(
            Quantity::parse("5GiB").unwrap_err().to_string(),
            "`5GiB` is not a Kubernetes quantity (did you mean `5Gi`?): use a number with a suffix such as 5Gi or 200G"
        );
    }

    #[test]
    fn out_of_range_values() {
        for big in [
            "1e100",
            "99999999999999999999999999999999999999999Ei",
            "1000000000000Ei",
        ] {
            let err = Quantity::parse(big).unwrap_err();
            assert!(
                matches!(err, QuantityError::OutOfRange { .. }),
                "{big}: {err:?}"
            );
            assert!(err.to_string().contains(big));
        }
        // The largest useful sizes still fit.
        assert_eq!(bytes("64Ti"), Some(64 << 40));
        assert_eq!(bytes("1000Ei"), Some(1000 << 60));
    }

    #[test]
    fn formats_units_with_exact_suffixes() {
        assert_eq!(format_units(32 * GI), "32Gi");
        assert_eq!(format_units(512 << 20), "512Mi");
        assert_eq!(format_units(16_000_000_000), "16G");
        assert_eq!(format_units(1500), "1500");
        assert_eq!(format_units(1_000_000), "1M");
        assert_eq!(format_units(1024), "1Ki");
        assert_eq!(format_units(0), "0");
        let q = Quantity::from_units(128 * GI);
        assert_eq!(q.to_string(), "128Gi");
        assert_eq!(q.bytes(), Some(128 * GI));
    }

    #[test]
    fn whole_counts() {
        assert_eq!(Quantity::parse("8").unwrap().whole_u32(), Some(8));
        assert_eq!(Quantity::parse("1k").unwrap().whole_u32(), Some(1000));
        assert_eq!(Quantity::parse("500m").unwrap().whole_u32(), None);
        assert_eq!(Quantity::parse("-2").unwrap().whole_u32(), None);
    }
}
