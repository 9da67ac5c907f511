//! Kubernetes resource quantities (`500m`, `2`, `512Mi`, `1.5G`), parsed exactly.
//!
//! Values are kept in thousandths of a unit, rounded up as the API server
//! does, so that totals in `plan` add up without floating-point drift.

// Scaling by an environment's factor and displaying in units go through
// `f64` on purpose: the results are rounded to thousandths, far inside
// `f64`'s precision for any quantity a cluster holds, and never negative.
#![allow(
    clippy::cast_precision_loss,
    clippy::cast_possible_truncation,
    clippy::cast_sign_loss,
    clippy::cast_possible_wrap
)]

use std::fmt;

/// What a quantity measures; it only changes hints and display.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Measure {
    /// CPU cores (`500m`, `2`).
    Cpu,
    /// Bytes of memory or storage (`512Mi`, `10Gi`).
    Bytes,
    /// A plain count (GPUs, pods).
    Count,
}

/// A non-negative quantity in thousandths of its unit.
///
/// ```
/// use strata_core::quantity::{Measure, Quantity};
/// assert_eq!(Quantity::parse("500m", Measure::Cpu).unwrap().milli(), 500);
/// assert_eq!(Quantity::parse("1Ki", Measure::Bytes).unwrap().milli(), 1_024_000);
/// let err = Quantity::parse("512MB", Measure::Bytes).unwrap_err();
/// assert_eq!(err.suggestion.as_deref(), Some("512Mi"));
/// ```
///
/// Held as two 64-bit halves rather than one `u128`: a `u128` is aligned
/// to 16 bytes, which pads every spec record holding a CPU or memory
/// amount (a service's `resources` took 240 bytes, 160 of them padding
/// and alignment). The halves, high first, order like the number.
#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Default, Hash)]
pub struct Quantity {
    high: u64,
    low: u64,
}

/// Why a text is not a quantity, with the likely intended spelling.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{message}")]
pub struct QuantityError {
    /// What is wrong.
    pub message: String,
    /// The text the user probably meant.
    pub suggestion: Option<String>,
}

const BINARY: [(&str, u32); 6] = [
    ("Ki", 1),
    ("Mi", 2),
    ("Gi", 3),
    ("Ti", 4),
    ("Pi", 5),
    ("Ei", 6),
];
const DECIMAL: [(&str, i32); 10] = [
    ("n", -9),
    ("u", -6),
    ("m", -3),
    ("", 0),
    ("k", 3),
    ("M", 6),
    ("G", 9),
    ("T", 12),
    ("P", 15),
    ("E", 18),
];

impl fmt::Debug for Quantity {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_tuple("Quantity").field(&self.milli()).finish()
    }
}

impl Quantity {
    /// A quantity of `n` whole units.
    pub const fn units(n: u64) -> Self {
        Quantity::from_milli(n as u128 * 1000)
    }

    /// A quantity of `n` thousandths of a unit.
    #[allow(clippy::cast_possible_truncation)] // the halves of `n`, taken apart on purpose
    pub const fn from_milli(n: u128) -> Self {
        Quantity {
            high: (n >> 64) as u64,
            low: n as u64,
        }
    }

    /// Thousandths of a unit.
    pub const fn milli(self) -> u128 {
        (self.high as u128) << 64 | self.low as u128
    }

    /// Whole units, rounded up.
    pub fn ceil_units(self) -> u128 {
        self.milli().div_ceil(1000)
    }

    /// The sum, saturating at the largest representable value.
    #[must_use]
    pub fn saturating_add(self, other: Quantity) -> Quantity {
        Quantity::from_milli(self.milli().saturating_add(other.milli()))
    }

    /// Multiplied by a whole number.
    #[must_use]
    pub fn times(self, n: u64) -> Quantity {
        Quantity::from_milli(self.milli().saturating_mul(u128::from(n)))
    }

    /// Multiplied by a positive factor, rounded up to a whole thousandth.
    #[must_use]
    pub fn scaled(self, factor: f64) -> Quantity {
        let scaled = (self.milli() as f64 * factor).ceil();
        if scaled.is_finite() && scaled >= 0.0 {
            Quantity::from_milli(scaled as u128)
        } else {
            self
        }
    }

    /// Parses Kubernetes quantity syntax.
    ///
    /// # Errors
    /// Text that is not a non-negative quantity, with a suggestion for common
    /// mistakes such as `512MB` or `0.5cores`.
    pub fn parse(text: &str, measure: Measure) -> Result<Quantity, QuantityError> {
        let trimmed = text.trim();
        let number_end = trimmed
            .find(|c: char| !(c.is_ascii_digit() || c == '.' || c == '+'))
            .unwrap_or(trimmed.len());
        let (number, suffix) = trimmed.split_at(number_end);
        let fail = |message: String| QuantityError {
            message,
            suggestion: suggest(number, suffix.trim(), measure),
        };
        let number = number.strip_prefix('+').unwrap_or(number);
        if trimmed.starts_with('-') {
            return Err(QuantityError {
                message: format!("`{text}` is negative; quantities here are zero or more"),
                suggestion: None,
            });
        }
        let (int_part, frac_part) = number.split_once('.').unwrap_or((number, ""));
        if (int_part.is_empty() && frac_part.is_empty())
            || !int_part.bytes().all(|b| b.is_ascii_digit())
            || !frac_part.bytes().all(|b| b.is_ascii_digit())
        {
            return Err(fail(format!("`{text}` is not a quantity")));
        }
        let digits: String = format!("{int_part}{frac_part}");
        let digits = digits.trim_start_matches('0');
        let mantissa: u128 = if digits.is_empty() {
            0
        } else {
            digits
                .parse()
                .map_err(|_| fail(format!("`{text}` has too many digits")))?
        };
        // value = mantissa * 10^-frac * multiplier; we want value * 1000.
        let mut numerator = mantissa;
        let mut denominator: u128 = 1;
        let mut ten_exp: i32 = 3 - frac_part.len() as i32;
        if let Some(&(_, power)) = BINARY.iter().find(|(s, _)| *s == suffix) {
            numerator = numerator
                .checked_mul(1u128 << (10 * power))
                .ok_or_else(|| fail(format!("`{text}` is too large")))?;
        } else if let Some(&(_, exp)) = DECIMAL.iter().find(|(s, _)| *s == suffix) {
            ten_exp += exp;
        } else if let Some(exp) = suffix
            .strip_prefix(['e', 'E'])
            .and_then(|e| e.parse::<i32>().ok())
            .filter(|e| e.abs() <= 30)
        {
            ten_exp += exp;
        } else {
            return Err(fail(format!("`{text}` has an unknown unit `{suffix}`")));
        }
        if ten_exp >= 0 {
            numerator = 10u128
                .checked_pow(ten_exp as u32)
                .and_then(|p| numerator.checked_mul(p))
                .ok_or_else(|| fail(format!("`{text}` is too large")))?;
        } else {
            denominator = 10u128
                .checked_pow(ten_exp.unsigned_abs())
                .ok_or_else(|| fail(format!("`{text}` has too many decimal places")))?;
        }
        Ok(Quantity::from_milli(numerator.div_ceil(denominator)))
    }

    /// The quantity in Kubernetes' canonical syntax: `500m` or `2` for CPU,
    /// `512Mi`, `10Gi` or plain bytes for memory and storage.
    ///
    /// ```
    /// use strata_core::quantity::{Measure, Quantity};
    /// let q = |t| Quantity::parse(t, Measure::Bytes).unwrap().to_kubernetes(Measure::Bytes);
    /// assert_eq!(q("1.5Gi"), "1536Mi");
    /// assert_eq!(Quantity::parse("0.25", Measure::Cpu).unwrap().to_kubernetes(Measure::Cpu), "250m");
    /// ```
    pub fn to_kubernetes(self, measure: Measure) -> String {
        match measure {
            Measure::Cpu | Measure::Count if self.milli().is_multiple_of(1000) => {
                (self.milli() / 1000).to_string()
            }
            Measure::Cpu | Measure::Count => format!("{}m", self.milli()),
            Measure::Bytes => {
                let bytes = self.ceil_units();
                [("Ti", 40), ("Gi", 30), ("Mi", 20), ("Ki", 10)]
                    .into_iter()
                    .find(|&(_, p)| bytes > 0 && bytes.is_multiple_of(1u128 << p))
                    .map_or_else(
                        || bytes.to_string(),
                        |(unit, p)| format!("{}{unit}", bytes >> p),
                    )
            }
        }
    }

    /// Formats the quantity for people, in the measure's usual unit.
    pub fn display(self, measure: Measure) -> Display {
        Display(self, measure)
    }
}

/// A [`Quantity`] formatted for its [`Measure`].
pub struct Display(Quantity, Measure);

impl fmt::Display for Display {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let milli = self.0.milli();
        match self.1 {
            Measure::Cpu if milli < 1000 && milli > 0 => write!(f, "{milli}m"),
            Measure::Cpu | Measure::Count => write!(f, "{}", trim(milli as f64 / 1000.0)),
            Measure::Bytes => {
                let bytes = milli as f64 / 1000.0;
                let (unit, div) = [("Ti", 40), ("Gi", 30), ("Mi", 20), ("Ki", 10)]
                    .into_iter()
                    .map(|(u, p)| (u, (1u128 << p) as f64))
                    .find(|&(_, d)| bytes >= d)
                    .unwrap_or(("", 1.0));
                write!(f, "{}{unit}", trim(bytes / div))
            }
        }
    }
}

fn trim(value: f64) -> String {
    let text = format!("{value:.2}");
    text.trim_end_matches('0').trim_end_matches('.').to_string()
}

/// The spelling a user most likely meant, for common unit mistakes.
fn suggest(number: &str, suffix: &str, measure: Measure) -> Option<String> {
    if number.is_empty() {
        return None;
    }
    let lower = suffix.to_ascii_lowercase();
    match measure {
        Measure::Bytes => {
            let unit = match lower.trim_end_matches('b') {
                "k" | "ki" => "Ki",
                "m" | "mi" => "Mi",
                "g" | "gi" => "Gi",
                "t" | "ti" => "Ti",
                "p" | "pi" => "Pi",
                "" if lower == "b" || lower == "bytes" => "",
                _ => return None,
            };
            Some(format!("{number}{unit}"))
        }
        Measure::Cpu => {
            if matches!(
                lower.as_str(),
                "core" | "cores" | "cpu" | "cpus" | "vcpu" | "vcpus" | "c"
            ) {
                Some(number.to_string())
            } else if matches!(
                lower.as_str(),
                "mc" | "millicores" | "millicore" | "milli" | "mcpu"
            ) {
                Some(format!("{number}m"))
            } else {
                None
            }
        }
        Measure::Count => None,
    }
}

/// `7d`, `12h`, `30m` in milliseconds.
pub fn period_ms(period: &str) -> Option<u64> {
    let (number, unit) = period.split_at(period.find(|c: char| !c.is_ascii_digit())?);
    let factor = match unit {
        "d" => 86_400_000,
        "h" => 3_600_000,
        "m" => 60_000,
        _ => return None,
    };
    number.parse::<u64>().ok()?.checked_mul(factor)
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn the_halves_order_and_print_like_the_number() {
        let values = [
            0,
            1,
            999,
            u128::from(u64::MAX),
            u128::from(u64::MAX) + 1,
            u128::MAX,
        ];
        for a in values {
            assert_eq!(Quantity::from_milli(a).milli(), a);
            assert_eq!(
                format!("{:?}", Quantity::from_milli(a)),
                format!("Quantity({a})")
            );
            for b in values {
                assert_eq!(
                    Quantity::from_milli(a).cmp(&Quantity::from_milli(b)),
                    a.cmp(&b),
                    "{a} against {b}"
                );
            }
        }
        assert_eq!(std::mem::align_of::<Quantity>(), 8);
    }

    fn q(text: &str) -> u128 {
        Quantity::parse(text, Measure::Bytes).unwrap().milli()
    }

    #[test]
    fn parses_kubernetes_syntax() {
        assert_eq!(q("1"), 1000);
        assert_eq!(q("0.5"), 500);
        assert_eq!(q("250m"), 250);
        assert_eq!(q("1.5Gi"), 1_610_612_736_000);
        assert_eq!(q("2k"), 2_000_000);
        assert_eq!(q("1e3"), 1_000_000);
        assert_eq!(q("1n"), 1, "sub-milli values round up like the API server");
        assert_eq!(q(".5"), 500);
    }

    #[test]
    fn rejects_with_suggestions() {
        let err = Quantity::parse("512MB", Measure::Bytes).unwrap_err();
        assert_eq!(err.suggestion.as_deref(), Some("512Mi"));
        let err = Quantity::parse("0.5cores", Measure::Cpu).unwrap_err();
        assert_eq!(err.suggestion.as_deref(), Some("0.5"));
        assert!(Quantity::parse("-1", Measure::Cpu).is_err());
        assert!(Quantity::parse("", Measure::Cpu).is_err());
        assert!(Quantity::parse("1.2.3", Measure::Cpu).is_err());
        assert!(
            Quantity::parse("99999999999999999999999999999999999999Ei", Measure::Bytes).is_err()
        );
    }

    #[test]
    fn displays_in_usual_units() {
        let cpu = |t| {
            Quantity::parse(t, Measure::Cpu)
                .unwrap()
                .display(Measure::Cpu)
                .to_string()
        };
        assert_eq!(cpu("500m"), "500m");
        assert_eq!(cpu("4500m"), "4.5");
        assert_eq!(cpu("12"), "12");
        let bytes = |t| {
            Quantity::parse(t, Measure::Bytes)
                .unwrap()
                .display(Measure::Bytes)
                .to_string()
        };
        assert_eq!(bytes("1536Mi"), "1.5Gi");
        assert_eq!(bytes("10Gi"), "10Gi");
    }

    proptest! {
        #[test]
        fn never_panics(text in "\\PC{0,24}") {
            let _ = Quantity::parse(&text, Measure::Cpu);
            let _ = Quantity::parse(&text, Measure::Bytes);
        }

        #[test]
        fn whole_mebibytes_round_trip(n in 0u64..1_000_000) {
            prop_assert_eq!(q(&format!("{n}Mi")), u128::from(n) * 1024 * 1024 * 1000);
        }
    }
}
