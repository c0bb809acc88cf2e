//! Probabilities as integer ratios, never floats, so a seed means the same run on every machine.

use serde::Serialize;
use std::fmt;

#[derive(Copy, Clone, Debug, PartialEq, Eq, Hash, Serialize)]
#[serde(into = "String")]
pub struct Ratio {
    numerator: u64,
    denominator: u64,
}

impl Ratio {
    pub const ZERO: Ratio = Ratio {
        numerator: 0,
        denominator: 1,
    };
    pub const ONE: Ratio = Ratio {
        numerator: 1,
        denominator: 1,
    };

    /// `numerator / denominator`; `None` unless 0 <= ratio <= 1 and the denominator is positive.
    pub fn new(numerator: u64, denominator: u64) -> Option<Ratio> {
        (denominator > 0 && numerator <= denominator).then_some(Ratio {
            numerator,
            denominator,
        })
    }

    pub fn numerator(self) -> u64 {
        self.numerator
    }

    pub fn denominator(self) -> u64 {
        self.denominator
    }

    /// Parses `"1/5"`, `"20%"` or `"0.2"` (at most six decimals).
    pub fn parse(text: &str) -> Result<Ratio, String> {
        let text = text.trim();
        let allowed = |c: char| c.is_ascii_digit() || matches!(c, '.' | '/' | '%' | ' ');
        if text.is_empty() || !text.chars().all(allowed) {
            return Err(format!(
                "`{text}` is not a probability; write one such as \"1/5\", \"20%\" or 0.2"
            ));
        }
        let ratio = if let Some((n, d)) = text.split_once('/') {
            let n = parse_u64(n)?;
            let d = parse_u64(d)?;
            if d == 0 {
                return Err(format!("`{text}` divides by zero"));
            }
            Ratio::new(n, d)
        } else if let Some(percent) = text.strip_suffix('%') {
            let (n, d) = parse_decimal(percent)?;
            Ratio::new(n, d * 100)
        } else {
            let (n, d) = parse_decimal(text)?;
            Ratio::new(n, d)
        };
        ratio.ok_or_else(|| format!("`{text}` is not a probability between 0 and 1"))
    }
}

fn parse_u64(text: &str) -> Result<u64, String> {
    text.trim()
        .parse()
        .map_err(|_| format!("`{}` is not a whole number", text.trim()))
}

/// `"0.25"` -> (25, 100).
fn parse_decimal(text: &str) -> Result<(u64, u64), String> {
    let text = text.trim();
    let (whole, fraction) = text.split_once('.').unwrap_or((text, ""));
    if fraction.len() > 6 || !fraction.chars().all(|c| c.is_ascii_digit()) {
        return Err(format!("`{text}` needs at most six decimals"));
    }
    let scale = 10u64.pow(fraction.len() as u32);
    let whole = parse_u64(if whole.is_empty() { "0" } else { whole })?;
    let fraction = if fraction.is_empty() {
        0
    } else {
        parse_u64(fraction)?
    };
    let value = whole
        .checked_mul(scale)
        .and_then(|w| w.checked_add(fraction))
        .ok_or_else(|| format!("`{text}` is not a probability between 0 and 1"))?;
    Ok((value, scale))
}

impl fmt::Display for Ratio {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}/{}", self.numerator, self.denominator)
    }
}

impl From<Ratio> for String {
    fn from(ratio: Ratio) -> String {
        ratio.to_string()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_fractions_percentages_and_decimals() {
        assert_eq!(Ratio::parse("1/5"), Ok(Ratio::new(1, 5).unwrap()));
        assert_eq!(Ratio::parse("20%"), Ok(Ratio::new(20, 100).unwrap()));
        assert_eq!(Ratio::parse("0.25"), Ok(Ratio::new(25, 100).unwrap()));
        assert_eq!(Ratio::parse("1"), Ok(Ratio::ONE));
    }

    #[test]
    fn rejects_what_is_not_a_probability() {
        assert!(Ratio::parse("6/5").is_err());
        assert!(Ratio::parse("1.5").is_err());
        assert!(Ratio::parse("1/0").is_err());
        assert!(Ratio::parse("-1").is_err());
        assert!(Ratio::parse("abc").is_err());
        assert!(
            Ratio::parse("NaN")
                .unwrap_err()
                .contains("is not a probability;")
        );
        assert!(
            Ratio::parse("inf")
                .unwrap_err()
                .contains("is not a probability;")
        );
        assert!(Ratio::parse("99999999999999999.999999").is_err());
        assert!(Ratio::parse("0.1234567").is_err());
    }
}
