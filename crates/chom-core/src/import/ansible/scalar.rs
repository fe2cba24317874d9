//! YAML scalars typed as Ansible's loader (PyYAML, YAML 1.1) types them,
//! not as YAML 1.2 would: `yes` and `on` are booleans, `0022` is the octal
//! 18, `1:30` the base-60 90, `1e5` (no dot) a string. It matters for
//! `ansible_port: 0022`, which Ansible reads as port 18.

use super::Value;

const CORE: &str = "tag:yaml.org,2002:";

/// Why an explicitly tagged scalar can not be read.
#[derive(Debug, PartialEq, Eq)]
pub(crate) enum TagProblem {
    Unknown,
    BadValue,
}

fn sign(s: &str) -> (i64, &str) {
    match s.as_bytes().first() {
        Some(b'-') => (-1, &s[1..]),
        Some(b'+') => (1, &s[1..]),
        _ => (1, s),
    }
}

fn all_in(s: &str, ok: impl Fn(u8) -> bool) -> bool {
    s.bytes().all(ok)
}

fn digit_or_underscore(b: u8) -> bool {
    b.is_ascii_digit() || b == b'_'
}

/// `[0-9][0-9_]*`, or `[1-9][0-9_]*` when `nonzero`.
fn leading_digits(s: &str, nonzero: bool) -> bool {
    match s.as_bytes().first() {
        Some(b) if b.is_ascii_digit() && !(nonzero && *b == b'0') => all_in(&s[1..], digit_or_underscore),
        _ => false,
    }
}

/// `HEAD(:[0-5]?[0-9])+`, where `head` checks the part before the first `:`.
fn sexagesimal(s: &str, head: impl Fn(&str) -> bool) -> bool {
    let mut parts = s.split(':');
    let first = parts.next().unwrap_or_default();
    let rest: Vec<&str> = parts.collect();
    head(first)
        && !rest.is_empty()
        && rest.iter().all(|p| match p.as_bytes() {
            [d] => d.is_ascii_digit(),
            [a, b] => (b'0'..=b'5').contains(a) && b.is_ascii_digit(),
            _ => false,
        })
}

fn is_int(s: &str) -> bool {
    let (_, r) = sign(s);
    let after = |prefix: &str| r.strip_prefix(prefix).filter(|t| !t.is_empty());
    after("0b").is_some_and(|t| all_in(t, |b| matches!(b, b'0' | b'1' | b'_')))
        || after("0").is_some_and(|t| all_in(t, |b| matches!(b, b'0'..=b'7' | b'_')))
        || r == "0"
        || leading_digits(r, true)
        || after("0x").is_some_and(|t| all_in(t, |b| b.is_ascii_hexdigit() || b == b'_'))
        || sexagesimal(r, |h| leading_digits(h, true))
}

/// `[eE][-+][0-9]+` or nothing.
fn exponent_ok(s: &str) -> bool {
    if s.is_empty() {
        return true;
    }
    let b = s.as_bytes();
    b.len() >= 3
        && matches!(b[0], b'e' | b'E')
        && matches!(b[1], b'-' | b'+')
        && all_in(&s[2..], |c| c.is_ascii_digit())
}

/// `FRACTION` then an optional exponent, where the fraction is `[0-9_]*`.
fn fraction_exponent(s: &str) -> bool {
    let end = s.find(['e', 'E']).unwrap_or(s.len());
    all_in(&s[..end], digit_or_underscore) && exponent_ok(&s[end..])
}

fn is_float(s: &str) -> bool {
    if matches!(s, ".nan" | ".NaN" | ".NAN") {
        return true;
    }
    if let Some(frac) = s.strip_prefix('.') {
        if leading_digits(frac.split(['e', 'E']).next().unwrap_or_default(), false) && fraction_exponent(frac) {
            return true;
        }
    }
    let (_, r) = sign(s);
    if matches!(r, ".inf" | ".Inf" | ".INF") {
        return true;
    }
    let Some((whole, frac)) = r.split_once('.') else {
        return false;
    };
    (leading_digits(whole, false) && fraction_exponent(frac))
        || (sexagesimal(whole, |h| leading_digits(h, false)) && all_in(frac, digit_or_underscore))
}

/// PyYAML's timestamp pattern: `2001-12-14`, or a date with a time of day
/// and an optional fraction and zone.
fn is_timestamp(s: &str) -> bool {
    let b = s.as_bytes();
    let mut i = 0;
    let digits = |i: &mut usize, min: usize, max: usize| {
        let n = b[*i..].iter().take(max).take_while(|d| d.is_ascii_digit()).count();
        *i += n;
        n >= min
    };
    let eat = |i: &mut usize, c: u8| {
        let ok = b.get(*i) == Some(&c);
        *i += usize::from(ok);
        ok
    };
    if !(digits(&mut i, 4, 4) && eat(&mut i, b'-')) {
        return false;
    }
    let month = i;
    if !(digits(&mut i, 1, 2) && eat(&mut i, b'-')) {
        return false;
    }
    let day = i;
    if !digits(&mut i, 1, 2) {
        return false;
    }
    if i == b.len() {
        return day - month == 3 && i - day == 2;
    }
    let blanks = |i: &mut usize| {
        let n = b[*i..].iter().take_while(|c| matches!(c, b' ' | b'\t')).count();
        *i += n;
        n
    };
    if !(eat(&mut i, b'T') || eat(&mut i, b't') || blanks(&mut i) > 0) {
        return false;
    }
    if !(digits(&mut i, 1, 2) && eat(&mut i, b':') && digits(&mut i, 2, 2) && eat(&mut i, b':') && digits(&mut i, 2, 2))
    {
        return false;
    }
    if eat(&mut i, b'.') {
        digits(&mut i, 0, usize::MAX);
    }
    blanks(&mut i);
    if eat(&mut i, b'Z') {
        return i == b.len();
    }
    if eat(&mut i, b'+') || eat(&mut i, b'-') {
        if !digits(&mut i, 1, 2) {
            return false;
        }
        if eat(&mut i, b':') && !digits(&mut i, 2, 2) {
            return false;
        }
    }
    i == b.len()
}

fn construct_int(text: &str) -> Option<i64> {
    let cleaned = text.replace('_', "");
    let (sign, v) = sign(&cleaned);
    let magnitude = if v == "0" {
        0
    } else if let Some(bin) = v.strip_prefix("0b") {
        i64::from_str_radix(bin, 2).ok()?
    } else if let Some(hex) = v.strip_prefix("0x") {
        i64::from_str_radix(hex, 16).ok()?
    } else if v.starts_with('0') {
        i64::from_str_radix(v, 8).ok()?
    } else if v.contains(':') {
        v.split(':').try_fold(0i64, |acc, part| acc.checked_mul(60)?.checked_add(part.parse().ok()?))?
    } else {
        v.parse().ok()?
    };
    magnitude.checked_mul(sign)
}

fn construct_float(text: &str) -> Option<f64> {
    let cleaned = text.replace('_', "").to_ascii_lowercase();
    let (sign, v) = sign(&cleaned);
    let sign = sign as f64;
    Some(match v {
        ".inf" => sign * f64::INFINITY,
        ".nan" => f64::NAN,
        v if v.contains(':') => {
            sign * v.split(':').try_fold(0f64, |acc, part| Some(acc * 60.0 + part.parse::<f64>().ok()?))?
        }
        v => sign * v.parse::<f64>().ok()?,
    })
}

fn construct_bool(text: &str) -> Option<bool> {
    match text.to_ascii_lowercase().as_str() {
        "yes" | "true" | "on" => Some(true),
        "no" | "false" | "off" => Some(false),
        _ => None,
    }
}

/// An untagged plain scalar, as PyYAML's implicit resolvers read it.
pub(crate) fn resolve_plain(text: &str) -> Value {
    const BOOLS: [&str; 18] = [
        "yes", "Yes", "YES", "no", "No", "NO", "true", "True", "TRUE", "false", "False", "FALSE", "on", "On", "ON",
        "off", "Off", "OFF",
    ];
    if BOOLS.contains(&text) {
        return Value::Bool(construct_bool(text).unwrap_or_default());
    }
    if is_float(text) {
        if let Some(x) = construct_float(text) {
            return Value::Float(x);
        }
    }
    if is_int(text) {
        return construct_int(text).map_or_else(|| Value::Other(text.to_owned()), Value::Int);
    }
    if matches!(text, "" | "~" | "null" | "Null" | "NULL") {
        return Value::Null;
    }
    if is_timestamp(text) {
        return Value::Other(text.to_owned());
    }
    Value::String(text.to_owned())
}

/// A scalar with an explicit tag: the core schema's, or Ansible's own
/// `!unsafe` (a string never templated) and `!vault` (encrypted).
pub(crate) fn resolve_tagged(tag: &str, text: &str) -> Result<Value, TagProblem> {
    let bad = TagProblem::BadValue;
    match tag.strip_prefix(CORE) {
        Some("str") => Ok(Value::String(text.to_owned())),
        Some("int") => construct_int(text).map(Value::Int).ok_or(bad),
        Some("float") => construct_float(text).map(Value::Float).ok_or(bad),
        Some("bool") => construct_bool(text).map(Value::Bool).ok_or(bad),
        Some("null") => Ok(Value::Null),
        Some("binary" | "timestamp") => Ok(Value::Other(text.to_owned())),
        Some(_) => Err(TagProblem::Unknown),
        None => match tag {
            "!" | "!unsafe" => Ok(Value::String(text.to_owned())),
            "!vault" | "!vault-encrypted" => Ok(Value::Other(format!("!vault {}", text.trim()))),
            _ => Err(TagProblem::Unknown),
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn plain_scalars_follow_yaml_1_1() {
        let cases = [
            ("22", Value::Int(22)),
            ("0022", Value::Int(18)),
            ("0x1F", Value::Int(31)),
            ("0b101", Value::Int(5)),
            ("1_000", Value::Int(1000)),
            ("1:30", Value::Int(90)),
            ("-7", Value::Int(-7)),
            ("08", Value::String("08".into())),
            ("1.5", Value::Float(1.5)),
            ("1.0e+3", Value::Float(1000.0)),
            ("1e5", Value::String("1e5".into())),
            ("1.0e5", Value::String("1.0e5".into())),
            ("yes", Value::Bool(true)),
            ("Off", Value::Bool(false)),
            ("y", Value::String("y".into())),
            ("~", Value::Null),
            ("", Value::Null),
            ("2024-01-02", Value::Other("2024-01-02".into())),
            ("2024-1-2 10:00:00", Value::Other("2024-1-2 10:00:00".into())),
            ("2024-01-web", Value::String("2024-01-web".into())),
            ("2024-1-2", Value::String("2024-1-2".into())),
            ("10.0.0.1", Value::String("10.0.0.1".into())),
            ("deploy", Value::String("deploy".into())),
        ];
        for (text, want) in cases {
            assert_eq!(resolve_plain(text), want, "{text:?}");
        }
        assert_eq!(resolve_plain(".inf"), Value::Float(f64::INFINITY));
    }

    #[test]
    fn tags_are_honoured_or_refused() {
        assert_eq!(resolve_tagged("tag:yaml.org,2002:str", "22"), Ok(Value::String("22".into())));
        assert_eq!(resolve_tagged("tag:yaml.org,2002:int", "0x10"), Ok(Value::Int(16)));
        assert_eq!(resolve_tagged("tag:yaml.org,2002:int", "ten"), Err(TagProblem::BadValue));
        assert_eq!(resolve_tagged("!unsafe", "{{ x }}"), Ok(Value::String("{{ x }}".into())));
        assert_eq!(resolve_tagged("!custom", "x"), Err(TagProblem::Unknown));
    }
}
