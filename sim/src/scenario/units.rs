//! The units scenario files are written in: durations (`"1.5s"`, `"500ms"`, `"2m"`), ranges of
//! them (`"1ms..3ms"`), sizes (`"64KiB"`), rates (`"200/s"`, `"64KiB/s"`), probabilities
//! (`"1/5"`, `"20%"`, `0.2`) and conditions on counts and times (`0`, `"<= 5"`, `"120s..130s"`).

use super::limits;
use crate::ratio::Ratio;
use serde::de::{self, Deserializer, Visitor};
use serde::{Deserialize, Serialize};
use std::fmt;

/// A span of simulated time, in milliseconds.
#[derive(Copy, Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Default, Serialize)]
pub struct Millis(pub u64);

impl Millis {
    pub fn parse(text: &str) -> Result<Millis, String> {
        let text = text.trim();
        if text.starts_with('-') {
            return Err(format!("`{text}` is negative; durations start at 0"));
        }
        let split = text
            .find(|c: char| !(c.is_ascii_digit() || c == '.'))
            .ok_or_else(|| format!("`{text}` needs a unit: ms, s, m, h or d (e.g. \"1.5s\")"))?;
        let (number, unit) = text.split_at(split);
        let scale: u64 = match unit.trim() {
            "ms" => 1,
            "s" => 1_000,
            "m" | "min" => 60_000,
            "h" => 3_600_000,
            "d" => 86_400_000,
            other => return Err(format!("unknown time unit `{other}`; use ms, s, m, h or d")),
        };
        let ms = scaled(number, scale).ok_or_else(|| format!("`{text}` is not a duration"))?;
        if ms > limits::MAX_DURATION_MS {
            return Err(format!(
                "`{text}` is longer than the limit of {} for any duration",
                limits::render(limits::MAX_DURATION_MS, limits::Unit::Millis)
            ));
        }
        Ok(Millis(ms))
    }
}

/// A signed span: how far a clock steps or stands off (`"+2h"`, `"-30m"`, `"72h"`).
#[derive(Copy, Clone, Debug, PartialEq, Eq, Hash, Default, Serialize)]
pub struct SignedMillis(pub i64);

impl SignedMillis {
    pub fn parse(text: &str) -> Result<SignedMillis, String> {
        let text = text.trim();
        let (sign, rest) = match text.strip_prefix('-') {
            Some(rest) => (-1, rest),
            None => (1, text.strip_prefix('+').unwrap_or(text)),
        };
        let magnitude = Millis::parse(rest)?;
        Ok(SignedMillis(sign * magnitude.0 as i64))
    }
}

/// `number * scale`, where `number` may have a fractional part; `None` if malformed or not
/// a whole number of the base unit.
fn scaled(number: &str, scale: u64) -> Option<u64> {
    let (whole, fraction) = number.split_once('.').unwrap_or((number, ""));
    if whole.is_empty() && fraction.is_empty() {
        return None;
    }
    let whole: u64 = if whole.is_empty() {
        0
    } else {
        whole.parse().ok()?
    };
    let mut value = whole.checked_mul(scale)?;
    let mut unit = scale;
    for digit in fraction.chars() {
        let digit = digit.to_digit(10)? as u64;
        if !unit.is_multiple_of(10) {
            return None; // finer than the base unit
        }
        unit /= 10;
        value = value.checked_add(digit * unit)?;
    }
    Some(value)
}

impl fmt::Display for Millis {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&model::time::format_ms(self.0))
    }
}

/// An inclusive range of durations: `"1ms..3ms"`, or one duration for a fixed value.
#[derive(Copy, Clone, Debug, PartialEq, Eq, Hash, Serialize)]
pub struct MillisRange {
    pub min: Millis,
    pub max: Millis,
}

impl MillisRange {
    pub fn fixed(ms: u64) -> MillisRange {
        MillisRange {
            min: Millis(ms),
            max: Millis(ms),
        }
    }

    pub fn parse(text: &str) -> Result<MillisRange, String> {
        match text.split_once("..") {
            Some((min, max)) => {
                let (min, max) = (Millis::parse(min)?, Millis::parse(max)?);
                if min > max {
                    return Err(format!("`{text}` runs backwards: {min} is after {max}"));
                }
                Ok(MillisRange { min, max })
            }
            None => Ok(MillisRange {
                min: Millis::parse(text)?,
                max: Millis::parse(text)?,
            }),
        }
    }

    pub fn contains(self, ms: u64) -> bool {
        self.min.0 <= ms && ms <= self.max.0
    }
}

impl fmt::Display for MillisRange {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.min == self.max {
            write!(f, "{}", self.min)
        } else {
            write!(f, "{}..{}", self.min, self.max)
        }
    }
}

/// A number of bytes: `"128B"`, `"64KiB"`, `"1MiB"`, or a plain integer.
#[derive(Copy, Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
pub struct Bytes(pub u64);

impl Bytes {
    pub fn parse(text: &str) -> Result<Bytes, String> {
        let text = text.trim();
        let split = text
            .find(|c: char| !c.is_ascii_digit())
            .unwrap_or(text.len());
        let (number, unit) = text.split_at(split);
        let scale: u64 = match unit.trim() {
            "" | "B" => 1,
            "KiB" | "K" => 1024,
            "MiB" | "M" => 1024 * 1024,
            "GiB" | "G" => 1024 * 1024 * 1024,
            "KB" => 1000,
            "MB" => 1_000_000,
            "GB" => 1_000_000_000,
            other => {
                return Err(format!(
                    "unknown size unit `{other}`; use B, KiB, MiB or GiB"
                ));
            }
        };
        let number: u64 = number
            .parse()
            .map_err(|_| format!("`{text}` is not a size (e.g. \"64KiB\")"))?;
        number
            .checked_mul(scale)
            .map(Bytes)
            .ok_or_else(|| format!("`{text}` is too large"))
    }
}

/// Events per second: `"200/s"`, `"5/100ms"`; kept as a period between events in microseconds.
#[derive(Copy, Clone, Debug, PartialEq, Eq, Hash, Serialize)]
pub struct Rate {
    pub count: u64,
    pub per: Millis,
}

impl Rate {
    pub fn parse(text: &str) -> Result<Rate, String> {
        let (count, per) = text
            .split_once('/')
            .ok_or_else(|| format!("`{text}` is not a rate; write e.g. \"200/s\""))?;
        let count: u64 = count
            .trim()
            .parse()
            .map_err(|_| format!("`{}` is not a whole number", count.trim()))?;
        let per = per.trim();
        let per = if per.starts_with(|c: char| c.is_ascii_digit()) {
            Millis::parse(per)?
        } else {
            Millis::parse(&format!("1{per}"))?
        };
        if count == 0 || per.0 == 0 {
            return Err(format!("`{text}` must be more than zero per period"));
        }
        Ok(Rate { count, per })
    }

    /// The gap between two events, in milliseconds (at least 1).
    pub fn interval_ms(self) -> u64 {
        (self.per.0 / self.count).max(1)
    }
}

/// A bandwidth: `"64KiB/s"`.
#[derive(Copy, Clone, Debug, PartialEq, Eq, Hash, Serialize)]
pub struct Bandwidth {
    pub bytes_per_second: u64,
}

impl Bandwidth {
    pub fn parse(text: &str) -> Result<Bandwidth, String> {
        let size = text
            .strip_suffix("/s")
            .ok_or_else(|| format!("`{text}` is not a bandwidth; write e.g. \"64KiB/s\""))?;
        let Bytes(bytes) = Bytes::parse(size)?;
        if bytes == 0 {
            return Err("a bandwidth must be more than zero".to_string());
        }
        Ok(Bandwidth {
            bytes_per_second: bytes,
        })
    }
}

/// What must hold of a count or a time: `0` (exactly), `"<= 5"`, `"> 0"`, `"3..8"`,
/// `"120s..130s"` (every sample in the range), or `"observe"` (reported, never a failure).
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub enum Condition {
    Observe,
    Equal(u64),
    AtMost(u64),
    AtLeast(u64),
    Less(u64),
    More(u64),
    Between(u64, u64),
}

impl Condition {
    /// Parses a count condition, or a time condition when `time` is set (values in ms).
    pub fn parse(text: &str, time: bool) -> Result<Condition, String> {
        let text = text.trim();
        let value = |v: &str| -> Result<u64, String> {
            if time {
                Millis::parse(v).map(|m| m.0)
            } else {
                v.trim()
                    .parse()
                    .map_err(|_| format!("`{}` is not a whole number", v.trim()))
            }
        };
        if text == "observe" {
            return Ok(Condition::Observe);
        }
        for (prefix, make) in [
            ("<=", Condition::AtMost as fn(u64) -> Condition),
            (">=", Condition::AtLeast),
            ("<", Condition::Less),
            (">", Condition::More),
            ("==", Condition::Equal),
        ] {
            if let Some(rest) = text.strip_prefix(prefix) {
                return Ok(make(value(rest)?));
            }
        }
        if let Some((min, max)) = text.split_once("..") {
            let (min, max) = (value(min)?, value(max)?);
            if min > max {
                return Err(format!("`{text}` runs backwards"));
            }
            return Ok(Condition::Between(min, max));
        }
        Ok(Condition::Equal(value(text)?))
    }

    pub fn holds(&self, value: u64) -> bool {
        match *self {
            Condition::Observe => true,
            Condition::Equal(v) => value == v,
            Condition::AtMost(v) => value <= v,
            Condition::AtLeast(v) => value >= v,
            Condition::Less(v) => value < v,
            Condition::More(v) => value > v,
            Condition::Between(min, max) => (min..=max).contains(&value),
        }
    }

    pub fn is_observe(&self) -> bool {
        *self == Condition::Observe
    }

    /// Renders the condition, with values as times when `time` is set.
    pub fn describe(&self, time: bool) -> String {
        let v = |x: u64| {
            if time {
                model::time::format_ms(x)
            } else {
                x.to_string()
            }
        };
        match *self {
            Condition::Observe => "observe".to_string(),
            Condition::Equal(x) => format!("= {}", v(x)),
            Condition::AtMost(x) => format!("<= {}", v(x)),
            Condition::AtLeast(x) => format!(">= {}", v(x)),
            Condition::Less(x) => format!("< {}", v(x)),
            Condition::More(x) => format!("> {}", v(x)),
            Condition::Between(a, b) => format!("{}..{}", v(a), v(b)),
        }
    }
}

/// Deserializes any of the unit types above from a TOML string (or a number where it fits),
/// so that a malformed value is reported at its own line.
macro_rules! from_string {
    ($type:ty, $expecting:literal, $parse:expr) => {
        impl<'de> Deserialize<'de> for $type {
            fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<$type, D::Error> {
                struct V;
                impl<'de> Visitor<'de> for V {
                    type Value = $type;
                    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                        f.write_str($expecting)
                    }
                    fn visit_str<E: de::Error>(self, text: &str) -> Result<$type, E> {
                        let parse: fn(&str) -> Result<$type, String> = $parse;
                        parse(text).map_err(E::custom)
                    }
                    fn visit_i64<E: de::Error>(self, n: i64) -> Result<$type, E> {
                        self.visit_str(&n.to_string())
                    }
                    fn visit_u64<E: de::Error>(self, n: u64) -> Result<$type, E> {
                        self.visit_str(&n.to_string())
                    }
                    fn visit_f64<E: de::Error>(self, n: f64) -> Result<$type, E> {
                        self.visit_str(&n.to_string())
                    }
                }
                deserializer.deserialize_any(V)
            }
        }
    };
}

from_string!(Millis, "a duration such as \"1.5s\" or \"500ms\"", |t| {
    if t.chars().all(|c| c.is_ascii_digit() || c == '-') {
        Err(format!("`{t}` needs a unit: ms, s, m or h (e.g. \"{t}s\")"))
    } else {
        Millis::parse(t)
    }
});
from_string!(
    MillisRange,
    "a duration or a range such as \"1ms..3ms\"",
    MillisRange::parse
);
from_string!(Bytes, "a size such as \"64KiB\"", Bytes::parse);
from_string!(
    SignedMillis,
    "a signed duration such as \"+2h\" or \"-30m\"",
    SignedMillis::parse
);
from_string!(Rate, "a rate such as \"200/s\"", Rate::parse);
from_string!(
    Bandwidth,
    "a bandwidth such as \"64KiB/s\"",
    Bandwidth::parse
);
from_string!(
    Ratio,
    "a probability such as \"1/5\", \"20%\" or 0.2",
    Ratio::parse
);

/// A count condition (see [`Condition`]).
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct CountCondition(pub Condition);
/// A time condition (see [`Condition`]); values are durations.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct TimeCondition(pub Condition);

from_string!(
    CountCondition,
    "a count condition such as 0, \"<= 5\" or \"observe\"",
    |t| { Condition::parse(t, false).map(CountCondition) }
);
from_string!(
    TimeCondition,
    "a time condition such as \"120s..130s\" or \"<= 30s\"",
    |t| { Condition::parse(t, true).map(TimeCondition) }
);

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn durations() {
        assert_eq!(Millis::parse("1.5s"), Ok(Millis(1500)));
        assert_eq!(Millis::parse("500ms"), Ok(Millis(500)));
        assert_eq!(Millis::parse("2m"), Ok(Millis(120_000)));
        assert_eq!(Millis::parse("0s"), Ok(Millis(0)));
        assert!(Millis::parse("-5s").unwrap_err().contains("negative"));
        assert!(Millis::parse("5").is_err());
        assert!(Millis::parse("5 days").is_err());
        assert!(Millis::parse("1.5ms").is_err());
        assert_eq!(Millis::parse("1d"), Ok(Millis(86_400_000)));
        assert_eq!(Millis::parse("2d"), Ok(Millis(172_800_000)));
        assert!(Millis::parse("31d").unwrap_err().contains("limit of 720h"));
        assert!(Millis::parse("240000h").unwrap_err().contains("limit"));
        assert!(Millis::parse("18446744073709551615ms").is_err());
    }

    #[test]
    fn ranges_sizes_rates() {
        assert_eq!(MillisRange::parse("1ms..3ms").unwrap().max, Millis(3));
        assert!(MillisRange::parse("3ms..1ms").is_err());
        assert_eq!(Bytes::parse("64KiB"), Ok(Bytes(65536)));
        assert_eq!(Bytes::parse("128"), Ok(Bytes(128)));
        assert_eq!(Bytes::parse("8GiB"), Ok(Bytes(8 << 30)));
        assert!(Bytes::parse("12 parsecs").is_err());
        assert_eq!(Rate::parse("200/s").unwrap().interval_ms(), 5);
        assert_eq!(Rate::parse("5/100ms").unwrap().interval_ms(), 20);
        assert!(Rate::parse("0/s").is_err());
        assert_eq!(Bandwidth::parse("1KiB/s").unwrap().bytes_per_second, 1024);
    }

    #[test]
    fn conditions() {
        assert!(Condition::parse("0", false).unwrap().holds(0));
        assert!(!Condition::parse("0", false).unwrap().holds(1));
        assert!(Condition::parse("<= 5", false).unwrap().holds(5));
        assert!(Condition::parse("> 0", false).unwrap().holds(1));
        let window = Condition::parse("120s..130s", true).unwrap();
        assert!(window.holds(125_000) && !window.holds(119_999));
        assert!(Condition::parse("observe", false).unwrap().is_observe());
        assert!(Condition::parse("maybe", false).is_err());
    }
}
