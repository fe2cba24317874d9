//! A host's jump host, from the ssh arguments Ansible adds to its command
//! line (`ansible_ssh_common_args`, then `ansible_ssh_extra_args`). As with
//! ssh itself, the first ProxyJump or ProxyCommand given wins.

use super::shlex;

/// Options of `ssh` that take an argument (its getopt string).
const ARG_FLAGS: &str = "BbcDEeFIiJLlmOoPpQRSWw";

#[derive(Debug, Default, PartialEq, Eq)]
pub(crate) struct Proxy {
    pub(crate) jump: Option<String>,
    pub(crate) command: Option<String>,
}

/// Reads argument strings in the order ssh receives them. Strings that do
/// not split (an unclosed quote) are skipped: ssh never runs with them.
pub(crate) fn from_ssh_args<'a>(args: impl IntoIterator<Item = &'a str>) -> Proxy {
    args.into_iter()
        .filter_map(|text| shlex::split(text, false).ok())
        .find_map(|tokens| first_proxy(&tokens))
        .unwrap_or_default()
}

/// Walks ssh options as getopt would, calling `on` with each option and
/// its argument; stops at the first non-option, whose index it returns.
fn walk_options(tokens: &[String], mut on: impl FnMut(char, &str)) -> usize {
    let mut i = 0;
    while i < tokens.len() {
        let token = &tokens[i];
        if token == "--" {
            return i + 1;
        }
        let Some(flags) = token.strip_prefix('-').filter(|f| !f.is_empty()) else {
            return i;
        };
        i += 1;
        for (at, flag) in flags.char_indices() {
            if !ARG_FLAGS.contains(flag) {
                continue;
            }
            let rest = &flags[at + flag.len_utf8()..];
            if !rest.is_empty() {
                on(flag, rest);
            } else if let Some(next) = tokens.get(i) {
                on(flag, next);
                i += 1;
            }
            break;
        }
    }
    i
}

/// `Keyword=value` or `Keyword value`, as ssh reads an `-o` argument.
fn split_option(arg: &str) -> (String, &str) {
    let arg = arg.trim_start();
    let end = arg.find(|c: char| c.is_whitespace() || c == '=').unwrap_or(arg.len());
    let (key, rest) = arg.split_at(end);
    let rest = rest.trim_start();
    let rest = rest.strip_prefix('=').unwrap_or(rest).trim();
    let value = rest.strip_prefix('"').and_then(|v| v.strip_suffix('"')).unwrap_or(rest);
    (key.to_ascii_lowercase(), value)
}

fn first_proxy(tokens: &[String]) -> Option<Proxy> {
    let mut found = None;
    let mut i = 0;
    // Stray words (not options) are skipped: these strings are fragments
    // spliced into a longer command line.
    while i < tokens.len() && found.is_none() {
        let used = walk_options(&tokens[i..], |flag, arg| {
            if found.is_some() {
                return;
            }
            match flag {
                'J' => found = Some(jump(arg)),
                'o' => match split_option(arg) {
                    (key, value) if key == "proxyjump" => found = Some(jump(value)),
                    (key, value) if key == "proxycommand" => found = Some(command(value)),
                    _ => {}
                },
                _ => {}
            }
        });
        i += used.max(1);
    }
    found
}

fn jump(value: &str) -> Proxy {
    if value.eq_ignore_ascii_case("none") {
        return Proxy::default();
    }
    Proxy { jump: Some(value.to_owned()), command: None }
}

fn command(value: &str) -> Proxy {
    if value.eq_ignore_ascii_case("none") {
        return Proxy::default();
    }
    match jump_in_command(value) {
        Some(jump) => Proxy { jump: Some(jump), command: None },
        None => Proxy { jump: None, command: Some(value.to_owned()) },
    }
}

fn basename(path: &str) -> &str {
    path.rsplit('/').next().unwrap_or(path)
}

/// `ssh -W %h:%p [opts] [user@]bastion` (or `ssh bastion nc %h %p`) is a
/// jump through `bastion`; any other command is not.
fn jump_in_command(command: &str) -> Option<String> {
    let tokens = shlex::split(command, false).ok()?;
    let tokens = match tokens.first().map(String::as_str) {
        Some("exec") => &tokens[1..],
        _ => &tokens[..],
    };
    if basename(tokens.first()?) != "ssh" {
        return None;
    }
    let (mut user, mut port, mut inner_jump, mut forward) = (None, None, None, None);
    // The first value given wins, as in ssh; a later -W replaces an earlier.
    let keep = |slot: &mut Option<String>, value: &str| {
        if slot.is_none() {
            *slot = Some(value.to_owned());
        }
    };
    let mut on = |flag: char, arg: &str| match flag {
        'l' => keep(&mut user, arg),
        'p' => keep(&mut port, arg),
        'J' => keep(&mut inner_jump, arg),
        'W' => forward = Some(arg.to_owned()),
        'o' => match split_option(arg) {
            (key, value) if key == "user" => keep(&mut user, value),
            (key, value) if key == "port" => keep(&mut port, value),
            (key, value) if key == "proxyjump" => keep(&mut inner_jump, value),
            _ => {}
        },
        _ => {}
    };
    let mut rest = &tokens[1..];
    rest = &rest[walk_options(rest, &mut on)..];
    let (destination, after) = rest.split_first()?;
    // ssh reads options after the destination too, up to the command.
    let remote = &after[walk_options(after, &mut on)..];
    let through_ssh = matches!(forward.as_deref(), Some("%h:%p" | "[%h]:%p")) && remote.is_empty();
    let through_nc = forward.is_none()
        && remote.first().is_some_and(|c| matches!(basename(c), "nc" | "ncat" | "netcat"))
        && remote.iter().any(|a| a == "%h")
        && remote.iter().any(|a| a == "%p");
    if !(through_ssh || through_nc) {
        return None;
    }
    let (dest_user, host, dest_port) = parse_destination(destination)?;
    if let Some(u) = dest_user {
        user.get_or_insert(u);
    }
    if let Some(p) = dest_port {
        port.get_or_insert(p);
    }
    let mut out = String::new();
    if let Some(j) = inner_jump {
        out.push_str(&j);
        out.push(',');
    }
    if let Some(u) = user {
        out.push_str(&u);
        out.push('@');
    }
    match port {
        Some(p) if host.contains(':') => out.push_str(&format!("[{host}]:{p}")),
        Some(p) => out.push_str(&format!("{host}:{p}")),
        None => out.push_str(&host),
    }
    Some(out)
}

/// `[user@]host` or `ssh://[user@]host[:port]`.
fn parse_destination(dest: &str) -> Option<(Option<String>, String, Option<String>)> {
    if let Some(uri) = dest.strip_prefix("ssh://") {
        let (user, hostport) = match uri.rsplit_once('@') {
            Some((u, h)) => (Some(u.to_owned()), h),
            None => (None, uri),
        };
        let hostport = hostport.trim_end_matches('/');
        let (host, port) = if let Some(v6) = hostport.strip_prefix('[') {
            let (h, tail) = v6.split_once(']')?;
            (h, tail.strip_prefix(':'))
        } else {
            match hostport.rsplit_once(':') {
                Some((h, p)) => (h, Some(p)),
                None => (hostport, None),
            }
        };
        return Some((user, host.to_owned(), port.map(str::to_owned)));
    }
    Some(match dest.rsplit_once('@') {
        Some((u, h)) => (Some(u.to_owned()), h.to_owned(), None),
        None => (None, dest.to_owned(), None),
    })
}
