//! ProxyJump values, parsed as readconf.c `parse_jump` does: `none`, or a
//! comma-separated chain of `[user@]host[:port]` or `ssh://[user@]host[:port]`.

use super::JumpHost;

#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum JumpSpec {
    /// `ProxyJump none`: no jump, and later ProxyJump lines are ignored.
    None,
    Chain(Vec<JumpHost>),
}

/// `raw` is the text after the keyword, quotes and all: parse_jump reads
/// the line itself rather than its split arguments.
pub(crate) fn parse(raw: &str) -> Result<JumpSpec, String> {
    let raw = raw.trim_start_matches([' ', '\t', '\r', '\n', '=']);
    // OpenSSH compares the unstripped text with "none", so `none # comment`
    // is a jump through a host called "none". Kept, to agree with ssh -G.
    if raw.eq_ignore_ascii_case("none") {
        return Ok(JumpSpec::None);
    }
    let body = raw.split('#').next().unwrap_or("").trim_end();
    body.split(',')
        .map(|hop| parse_hop(hop).ok_or_else(|| format!("{hop:?} is not [user@]host[:port]")))
        .collect::<Result<Vec<_>, _>>()
        .map(JumpSpec::Chain)
}

fn parse_hop(hop: &str) -> Option<JumpHost> {
    match hop.strip_prefix("ssh://") {
        Some(uri) => parse_uri(uri),
        None => parse_user_host_port(hop),
    }
}

/// misc.c `parse_user_host_port`: the user is everything before the last `@`.
fn parse_user_host_port(s: &str) -> Option<JumpHost> {
    let (user, rest) = match s.rfind('@') {
        Some(0) => return None,
        Some(i) => (Some(s[..i].to_string()), &s[i + 1..]),
        None => (None, s),
    };
    let (host, port) = split_host_port(rest)?;
    if host.is_empty() {
        return None;
    }
    let port = match port {
        Some(p) if !p.is_empty() => Some(port_number(p)?),
        _ => None,
    };
    Some(JumpHost { user, host, port })
}

/// misc.c `parse_uri` for `ssh://`: the user is before the first `@`,
/// `;params` after it are dropped, and no path is allowed.
fn parse_uri(s: &str) -> Option<JumpHost> {
    let (user, rest) = match s.find('@') {
        Some(i) => {
            let user = s[..i].split(';').next().unwrap_or("");
            if user.is_empty() {
                return None;
            }
            (Some(url_decode(user)?), &s[i + 1..])
        }
        None => (None, s),
    };
    // A bare trailing `/` is an empty path; any other path is refused.
    let rest = rest.strip_suffix('/').unwrap_or(rest);
    let (host, port) = split_host_port(rest)?;
    let host = valid_domain(&host)?;
    let port = match port {
        Some(p) if !p.is_empty() => Some(port_number(p)?),
        _ => None,
    };
    Some(JumpHost { user, host, port })
}

/// misc.c `valid_domain`, which URIs must pass (so no IPv6 there): letters,
/// digits, `-`, `_`, single dots, a letter or digit first; a final dot goes.
fn valid_domain(host: &str) -> Option<String> {
    let first_ok = host.bytes().next().is_some_and(|b| b.is_ascii_alphanumeric());
    let chars_ok = host.bytes().all(|b| b.is_ascii_alphanumeric() || b"-._".contains(&b));
    if !first_ok || !chars_ok || host.contains("..") {
        return None;
    }
    Some(host.strip_suffix('.').unwrap_or(host).to_string())
}

/// misc.c `hpdelim`: `[v6]` or up to the first `:`; a `/` is refused.
fn split_host_port(s: &str) -> Option<(String, Option<&str>)> {
    let (host, rest) = if s.starts_with('[') {
        let close = s.find(']')?;
        let (h, r) = s.split_at(close + 1);
        match r.chars().next() {
            None => (h, None),
            Some(':') => (h, Some(&r[1..])),
            Some(_) => return None,
        }
    } else {
        match s.find([':', '/']) {
            None => (s, None),
            Some(i) if s.as_bytes()[i] == b':' => (&s[..i], Some(&s[i + 1..])),
            Some(_) => return None,
        }
    };
    let host = host.strip_prefix('[').and_then(|h| h.strip_suffix(']')).unwrap_or(host);
    Some((host.to_string(), rest))
}

fn port_number(p: &str) -> Option<u16> {
    p.parse::<u16>().ok().filter(|&n| n > 0)
}

fn url_decode(s: &str) -> Option<String> {
    let b = s.as_bytes();
    let mut out = Vec::with_capacity(b.len());
    let mut i = 0;
    while i < b.len() {
        match b[i] {
            b'+' => out.push(b' '),
            b'%' => {
                let hex = std::str::from_utf8(b.get(i + 1..i + 3)?).ok()?;
                out.push(u8::from_str_radix(hex, 16).ok()?);
                i += 2;
            }
            c => out.push(c),
        }
        i += 1;
    }
    String::from_utf8(out).ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn hop(user: Option<&str>, host: &str, port: Option<u16>) -> JumpHost {
        JumpHost { user: user.map(str::to_string), host: host.to_string(), port }
    }

    #[test]
    fn a_chain_keeps_its_order_with_users_and_ports() {
        // An empty hop after the last comma is refused.
        assert!(parse("a,").is_err());
        assert_eq!(parse("a # why").unwrap(), JumpSpec::Chain(vec![hop(None, "a", None)]));
        assert_eq!(
            parse("a@bastion:2222,inner,ssh://z@h:23").unwrap(),
            JumpSpec::Chain(vec![
                hop(Some("a"), "bastion", Some(2222)),
                hop(None, "inner", None),
                hop(Some("z"), "h", Some(23))
            ])
        );
    }

    #[test]
    fn none_means_no_jump() {
        assert_eq!(parse("None").unwrap(), JumpSpec::None);
        assert_eq!(parse("none # really").unwrap(), JumpSpec::Chain(vec![hop(None, "none", None)]));
    }

    #[test]
    fn ipv6_hosts_come_in_brackets_and_bad_ports_are_refused() {
        assert_eq!(parse("u@[::1]:2200").unwrap(), JumpSpec::Chain(vec![hop(Some("u"), "::1", Some(2200))]));
        assert!(parse("host:0").is_err());
        assert!(parse("host:ssh2").is_err());
        assert!(parse("@host").is_err());
        assert!(parse("host/path").is_err());
        // URIs take domain names only, as OpenSSH checks them.
        assert!(parse("ssh://u@[::1]:2201").is_err());
        assert_eq!(parse("ssh://h.example.:22/").unwrap(), JumpSpec::Chain(vec![hop(None, "h.example", Some(22))]));
    }
}
