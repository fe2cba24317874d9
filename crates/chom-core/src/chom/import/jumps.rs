//! ProxyJump in a source, as jump hosts CHOM knows: each hop must be a
//! server of the cache or of the same import (matched by name, or by host
//! and port), since every hop has its own key and pinned host key. A chain
//! `a,b` becomes "through b", b itself going through a.

use std::collections::HashMap;

use crate::db::ServerRecord;
use crate::validate::ServerName;

use super::Candidate;

/// One hop as a source writes it (`[user@]host[:port]`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) struct Hop {
    pub host: String,
    pub port: Option<u16>,
}

impl Hop {
    /// A ProxyJump value (`a,b`, `user@host:port`, `[::1]:22`).
    pub(super) fn parse_list(value: &str) -> Vec<Hop> {
        value.split(',').map(str::trim).filter(|h| !h.is_empty()).map(Hop::parse).collect()
    }

    fn parse(spec: &str) -> Hop {
        let spec = spec.rsplit_once('@').map_or(spec, |(_, h)| h);
        let spec = spec.strip_prefix("ssh://").unwrap_or(spec);
        if let Some(rest) = spec.strip_prefix('[') {
            if let Some((host, tail)) = rest.split_once(']') {
                return Hop { host: host.to_owned(), port: tail.strip_prefix(':').and_then(|p| p.parse().ok()) };
            }
        }
        match spec.rsplit_once(':') {
            Some((host, port)) if !host.contains(':') => Hop { host: host.to_owned(), port: port.parse().ok() },
            _ => Hop { host: spec.to_owned(), port: None },
        }
    }

    fn show(hops: &[Hop]) -> String {
        let one = |h: &Hop| h.port.map_or(h.host.clone(), |p| format!("{}:{p}", h.host));
        hops.iter().map(one).collect::<Vec<_>>().join(",")
    }
}

struct Known {
    name: String,
    host: String,
    port: u16,
    /// Its own jump host, as the cache or its source says.
    jump: Option<String>,
}

/// Gives each candidate the jump host its hops name, or skips it saying
/// why. `existing` is the cache.
pub(super) fn assign(candidates: Vec<(Candidate, Vec<Hop>)>, existing: &[ServerRecord]) -> Vec<Candidate> {
    let mut known: Vec<Known> = existing
        .iter()
        .map(|r| Known {
            name: r.name.to_string(),
            host: r.host.to_string(),
            port: r.port.get(),
            jump: r.jump.as_ref().map(|j| j.to_string()),
        })
        .collect();
    for (c, _) in &candidates {
        if let Candidate::Server { server, .. } = c {
            // The import's own description wins over the cache's.
            known.retain(|k| k.name != server.name.as_str());
            known.push(Known {
                name: server.name.to_string(),
                host: server.host.to_string(),
                port: server.port.get(),
                jump: None,
            });
        }
    }
    let find = |hop: &Hop, known: &[Known]| -> Option<String> {
        let by_name = known.iter().find(|k| k.name == hop.host && hop.port.is_none_or(|p| p == k.port));
        let by_host = || known.iter().find(|k| k.host == hop.host && hop.port.unwrap_or(22) == k.port);
        by_name.or_else(by_host).map(|k| k.name.clone())
    };
    // Each candidate's own jump host, as its last hop names it.
    let declared: HashMap<String, Option<String>> = candidates
        .iter()
        .filter_map(|(c, hops)| match c {
            Candidate::Server { server, .. } => {
                Some((server.name.to_string(), hops.last().and_then(|h| find(h, &known))))
            }
            Candidate::Skip { .. } => None,
        })
        .collect();
    for k in &mut known {
        if let Some(j) = declared.get(&k.name) {
            k.jump = j.clone();
        }
    }
    let jump_of = |name: &str| known.iter().find(|k| k.name == name).and_then(|k| k.jump.clone());
    candidates
        .into_iter()
        .map(|(c, hops)| {
            if hops.is_empty() {
                return c;
            }
            let chain = Hop::show(&hops);
            let mut names = Vec::new();
            for hop in &hops {
                match find(hop, &known) {
                    Some(n) => names.push(n),
                    None => {
                        return c.skipped(format!(
                            "it is reached through ProxyJump {chain}, and {} is no server CHOM has or imports; \
                             add it first (it needs its own key and pinned host key)",
                            Hop::show(std::slice::from_ref(hop))
                        ))
                    }
                }
            }
            for (k, name) in names.iter().enumerate() {
                let want = k.checked_sub(1).map(|i| names[i].clone());
                let has = jump_of(name);
                if has != want {
                    return c.skipped(format!(
                        "it is reached through ProxyJump {chain}, but CHOM reaches {name} through {}, not {}; \
                         make {name}'s own ProxyJump say so",
                        has.as_deref().unwrap_or("no jump host"),
                        want.as_deref().unwrap_or("no jump host")
                    ));
                }
            }
            let Some(last) = names.pop() else { return c };
            match c {
                Candidate::Server { mut server, notes } if last != server.name.as_str() => {
                    match ServerName::parse(&last) {
                        Ok(jump) => {
                            server.jump = Some(jump);
                            Candidate::Server { server, notes }
                        }
                        Err(e) => Candidate::Server { server, notes }.skipped(e.to_string()),
                    }
                }
                c => c.skipped(format!("its ProxyJump {chain} loops back to itself")),
            }
        })
        .collect()
}

/// Adds ordered so that a jump host is written before the servers behind it.
pub(super) fn in_write_order(mut adds: Vec<crate::db::NewServer>) -> Vec<crate::db::NewServer> {
    let mut ordered = Vec::with_capacity(adds.len());
    while !adds.is_empty() {
        let pending: Vec<String> = adds.iter().map(|s| s.name.to_string()).collect();
        let (ready, wait): (Vec<_>, Vec<_>) =
            adds.into_iter().partition(|s| s.jump.as_ref().is_none_or(|j| !pending.iter().any(|p| p == j.as_str())));
        if ready.is_empty() {
            // A loop among them: the transaction's own checks refuse it.
            ordered.extend(wait);
            break;
        }
        ordered.extend(ready);
        adds = wait;
    }
    ordered
}

#[cfg(test)]
mod tests {
    use super::Hop;

    #[test]
    fn hops_are_read_as_ssh_writes_them() {
        let hops = Hop::parse_list("ops@bastion:2222, [::1]:22,plain");
        let want = [("bastion", Some(2222)), ("::1", Some(22)), ("plain", None)];
        let got: Vec<(&str, Option<u16>)> = hops.iter().map(|h| (h.host.as_str(), h.port)).collect();
        assert_eq!(got, want);
    }
}
