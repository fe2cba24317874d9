//! Host patterns: `name[:port]` with `[begin:end(:step)]` ranges, as
//! Ansible's `parse_address` and `expand_hostname_range` read them.
//!
//! A port is split off only when what is left is a valid host name or
//! address; otherwise, as in Ansible, the whole text (colon and all) is the
//! host's name. `[::1]:22` is how an IPv6 address takes a port.

use std::net::Ipv6Addr;

use super::{RangeProblem, Value};

/// The most hosts one pattern may expand to. Ansible has no limit; a typo
/// like `web[1:10000000]` would otherwise fill memory.
pub const MAX_RANGE_HOSTS: usize = 100_000;

const LETTERS: &str = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ";

#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Expanded {
    pub(crate) hosts: Vec<String>,
    /// The port as Ansible stores it (an int); `Some(Int(0))` is possible,
    /// and Ansible then sets no port.
    pub(crate) port: Option<Value>,
}

/// Splits off the port and expands ranges.
pub(crate) fn expand_host_pattern(pattern: &str) -> Result<Expanded, RangeProblem> {
    let (address, port) = split_port(pattern);
    let hosts = if address.contains('[') {
        let mut hosts = Vec::new();
        expand_range(address, &mut hosts)?;
        hosts
    } else {
        vec![address.to_owned()]
    };
    let port = port.map(|digits| match digits.parse::<i64>() {
        Ok(n) => Value::Int(n),
        Err(_) => Value::Other(digits.to_owned()),
    });
    Ok(Expanded { hosts, port })
}

/// `parse_address(pattern, allow_ranges=True)`, falling back to the whole
/// pattern and no port where Ansible's call raises.
fn split_port(pattern: &str) -> (&str, Option<&str>) {
    let mut address = pattern;
    let mut port = None;
    // Ansible tries both forms in turn, the second on what the first left.
    if let Some((a, p)) = bracketed_host_port(address) {
        address = a;
        port = Some(p);
    }
    if let Some((a, p)) = host_port(address) {
        address = a;
        port = Some(p);
    }
    if is_ipv6(address) || is_hostname(address) {
        (address, port)
    } else {
        (pattern, None)
    }
}

fn all_digits(s: &str) -> bool {
    !s.is_empty() && s.bytes().all(|b| b.is_ascii_digit())
}

/// `^\[(.+)\]:([0-9]+)$`
fn bracketed_host_port(s: &str) -> Option<(&str, &str)> {
    let (head, port) = s.rsplit_once(':')?;
    let inner = head.strip_prefix('[')?.strip_suffix(']')?;
    (all_digits(port) && !inner.is_empty()).then_some((inner, port))
}

/// `^((?:[^:\[\]]|\[[^\]]*\])*):([0-9]+)$`: one colon outside brackets,
/// followed by digits only.
fn host_port(s: &str) -> Option<(&str, &str)> {
    let mut i = 0;
    let bytes = s.as_bytes();
    while i < bytes.len() {
        match bytes[i] {
            b'[' => i += s[i..].find(']')? + 1,
            b']' => return None,
            b':' => return all_digits(&s[i + 1..]).then(|| (&s[..i], &s[i + 1..])),
            _ => i += 1,
        }
    }
    None
}

/// Python's `\w`: letters, digits and `_`, in any script.
fn is_word(c: char) -> bool {
    c.is_alphanumeric() || c == '_'
}

/// Length of an alphanumeric range (`[a:f]`, `[01:20]`, `[1:9:2]`) at the
/// start of `chars`.
fn range_len(chars: &[char], hex: bool) -> Option<usize> {
    let digit = |c: &char| if hex { c.is_ascii_hexdigit() } else { c.is_ascii_digit() };
    let run = |from: usize, ok: &dyn Fn(&char) -> bool| chars[from..].iter().take_while(|c| ok(c)).count();
    if chars.first() != Some(&'[') {
        return None;
    }
    let mut j = 1;
    let letter = |c: Option<&char>| c.is_some_and(char::is_ascii_alphabetic);
    if !hex && letter(chars.get(1)) && chars.get(2) == Some(&':') && letter(chars.get(3)) {
        j = 4;
    } else {
        let a = run(j, &digit);
        if a == 0 || chars.get(j + a) != Some(&':') {
            return None;
        }
        j += a + 1;
        let b = run(j, &digit);
        if b == 0 {
            return None;
        }
        j += b;
    }
    if chars.get(j) == Some(&':') {
        let step = run(j + 1, &|c: &char| c.is_ascii_digit());
        if step == 0 {
            return None;
        }
        j += step + 1;
    }
    (chars.get(j) == Some(&']')).then_some(j + 1)
}

/// Ansible's hostname pattern: dot-separated labels of word characters and
/// `-` (and ranges), not starting with `-` nor ending with `-` or `_`.
fn is_hostname(s: &str) -> bool {
    s.split('.').all(|label| {
        let chars: Vec<char> = label.chars().collect();
        let mut i = 0;
        let mut last = None;
        while i < chars.len() {
            if chars[i] == '[' {
                match range_len(&chars[i..], false) {
                    Some(n) => i += n,
                    None => return false,
                }
                last = Some(']');
                continue;
            }
            let c = chars[i];
            if !(is_word(c) || (c == '-' && i > 0)) {
                return false;
            }
            last = Some(c);
            i += 1;
        }
        last.is_some_and(|c| c != '-' && c != '_')
    })
}

/// An IPv6 address, where any group may be a hexadecimal range.
fn is_ipv6(s: &str) -> bool {
    let chars: Vec<char> = s.chars().collect();
    let mut plain = String::new();
    let mut i = 0;
    while i < chars.len() {
        if chars[i] == '[' {
            match range_len(&chars[i..], true) {
                Some(n) => {
                    plain.push('0');
                    i += n;
                }
                None => return false,
            }
        } else {
            plain.push(chars[i]);
            i += 1;
        }
    }
    plain.parse::<Ipv6Addr>().is_ok()
}

/// Python's `int(text)` for the plain decimal spellings ranges use.
fn py_int(text: &str) -> Option<i64> {
    let t = text.trim();
    let (neg, digits) = match t.as_bytes().first() {
        Some(b'-') => (true, &t[1..]),
        Some(b'+') => (false, &t[1..]),
        _ => (false, t),
    };
    if digits.is_empty()
        || digits.starts_with('_')
        || digits.ends_with('_')
        || digits.contains("__")
        || !digits.bytes().all(|b| b.is_ascii_digit() || b == b'_')
    {
        return None;
    }
    let n: i64 = digits.replace('_', "").parse().ok()?;
    Some(if neg { -n } else { n })
}

/// Python's `str.zfill`.
fn zfill(n: i64, width: usize) -> String {
    let digits = n.unsigned_abs().to_string();
    let sign = if n < 0 { "-" } else { "" };
    let pad = width.saturating_sub(digits.len() + sign.len());
    format!("{sign}{}{digits}", "0".repeat(pad))
}

/// `expand_hostname_range`: the first `[...]` is expanded, then each result
/// again until no `[` is left.
fn expand_range(line: &str, out: &mut Vec<String>) -> Result<(), RangeProblem> {
    // Ansible replaces the first '[' and then the first ']' with '|' and
    // splits on '|'; anything but three parts is an error there too.
    let open = line.find('[').ok_or(RangeProblem::NotBeginEnd)?;
    let mut marked = line.to_owned();
    marked.replace_range(open..open + 1, "|");
    let close = marked.find(']').ok_or(RangeProblem::NotBeginEnd)?;
    marked.replace_range(close..close + 1, "|");
    let parts: Vec<&str> = marked.split('|').collect();
    let [head, range, tail] = parts[..] else {
        return Err(RangeProblem::NotBeginEnd);
    };
    let bounds: Vec<&str> = range.split(':').collect();
    let (begin, end, step) = match bounds[..] {
        [b, e] => (b, e, 1),
        [b, e, s] => (b, e, py_int(s).ok_or(RangeProblem::BadStep)?),
        _ => return Err(RangeProblem::NotBeginEnd),
    };
    let begin = if begin.is_empty() { "0" } else { begin };
    if end.is_empty() {
        return Err(RangeProblem::NoEnd);
    }
    let step = usize::try_from(step).ok().filter(|s| *s > 0).ok_or(RangeProblem::BadStep)?;
    let width = if begin.starts_with('0') && begin.len() > 1 {
        if begin.chars().count() != end.chars().count() {
            return Err(RangeProblem::UnequalWidth);
        }
        Some(begin.chars().count())
    } else {
        None
    };
    let items: Vec<String> = if let (Some(b), Some(e)) = (LETTERS.find(begin), LETTERS.find(end)) {
        if b > e {
            return Err(RangeProblem::CountsDown);
        }
        LETTERS[b..=e].chars().step_by(step).map(String::from).collect()
    } else {
        let (b, e) = (py_int(begin), py_int(end));
        let (Some(b), Some(e)) = (b, e) else {
            return Err(RangeProblem::NotANumber);
        };
        if b > e {
            return Err(RangeProblem::CountsDown);
        }
        let count = e.abs_diff(b) / step as u64 + 1;
        if count > (MAX_RANGE_HOSTS - out.len().min(MAX_RANGE_HOSTS)) as u64 {
            return Err(RangeProblem::TooMany);
        }
        (b..=e).step_by(step).map(|n| width.map_or_else(|| n.to_string(), |w| zfill(n, w))).collect()
    };
    for item in items {
        let name = format!("{head}{item}{tail}");
        if name.contains('[') {
            expand_range(&name, out)?;
        } else {
            if out.len() >= MAX_RANGE_HOSTS {
                return Err(RangeProblem::TooMany);
            }
            out.push(name);
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn hosts(pattern: &str) -> Vec<String> {
        match expand_host_pattern(pattern) {
            Ok(e) => e.hosts,
            Err(e) => panic!("{pattern}: {e}"),
        }
    }

    #[test]
    fn ports_split_only_off_valid_addresses() {
        let port = |p: &str| expand_host_pattern(p).map(|e| (e.hosts, e.port)).ok();
        assert_eq!(port("db:2222"), Some((vec!["db".into()], Some(Value::Int(2222)))));
        assert_eq!(port("[::1]:22"), Some((vec!["::1".into()], Some(Value::Int(22)))));
        assert_eq!(port("fe80::1"), Some((vec!["fe80::1".into()], None)));
        // Not a host name, so Ansible keeps it whole, colon included.
        assert_eq!(port("me@db:22"), Some((vec!["me@db:22".into()], None)));
        assert_eq!(port("db.:22"), Some((vec!["db.:22".into()], None)));
        assert_eq!(hosts("web[1:2].example.com:2222"), vec!["web1.example.com", "web2.example.com"]);
    }

    #[test]
    fn ranges_expand_like_ansible() {
        assert_eq!(hosts("web[01:03]"), vec!["web01", "web02", "web03"]);
        assert_eq!(hosts("db-[a:c].x"), vec!["db-a.x", "db-b.x", "db-c.x"]);
        assert_eq!(hosts("n[1:10:4]"), vec!["n1", "n5", "n9"]);
        assert_eq!(hosts("n[001:010:3]"), vec!["n001", "n004", "n007", "n010"]);
        assert_eq!(hosts("r[1:2]c[a:b]"), vec!["r1ca", "r1cb", "r2ca", "r2cb"]);
        assert_eq!(hosts("x[y:B]"), vec!["xy", "xz", "xA", "xB"]);
        assert_eq!(hosts("h[:2]"), vec!["h0", "h1", "h2"]);
        assert_eq!(hosts("10.0.0.[1:3]"), vec!["10.0.0.1", "10.0.0.2", "10.0.0.3"]);
    }

    #[test]
    fn bad_ranges_are_refused() {
        let problem = |p: &str| expand_host_pattern(p).err();
        assert_eq!(problem("web[20:01]"), Some(RangeProblem::CountsDown));
        assert_eq!(problem("web[f:a]"), Some(RangeProblem::CountsDown));
        assert_eq!(problem("web[01:100]"), Some(RangeProblem::UnequalWidth));
        assert_eq!(problem("web[1:]"), Some(RangeProblem::NoEnd));
        assert_eq!(problem("web[1:5:0]"), Some(RangeProblem::BadStep));
        assert_eq!(problem("web[1:5:x]"), Some(RangeProblem::BadStep));
        assert_eq!(problem("web[1]"), Some(RangeProblem::NotBeginEnd));
        assert_eq!(problem("web[1:z]"), Some(RangeProblem::NotANumber));
        assert_eq!(problem("web[1:9999999]"), Some(RangeProblem::TooMany));
        assert_eq!(problem("a[1:999]b[1:999]"), Some(RangeProblem::TooMany));
    }
}
