//! Writing servers as an Ansible inventory that `ansible-inventory` reads
//! back to the same hosts, `ansible_host`, `ansible_port`, `ansible_user`
//! and groups.
//!
//! Values are refused rather than escaped when Ansible would read them as
//! something else: a `[` in a name starts a range, a `:` a port, a leading
//! `-` turns an address into an ssh option, and `{{` would be run as a
//! template the next time a playbook uses the variable.

use std::collections::{BTreeMap, BTreeSet};

use super::AnsibleError;

/// One server to write.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ExportHost {
    pub name: String,
    pub host: String,
    pub port: u16,
    pub user: String,
    pub groups: Vec<String>,
}

const HEADER: &str = "# Written by CHOM Desktop. Check it with: ansible-inventory -i THIS_FILE --list\n";

/// The group name as Ansible would make it safe, so it draws none of
/// Ansible's "invalid characters were found in group names" warnings.
///
/// Ansible's `to_safe_group_name` replaces each match of
/// `^[\d\W]|[^\w]` with `_`: every character that is not a letter, digit or
/// underscore, and a digit in first place. Here letters and digits are the
/// ASCII ones (Python's `\w` also takes other scripts), so `web-1` becomes
/// `web_1`, `1st` becomes `_st` and `café` becomes `caf_`. The names
/// Ansible reserves, `all` and `ungrouped`, get a `_group` suffix, since a
/// host put in them would not stay there.
pub fn safe_group_name(name: &str) -> String {
    let mut safe: String = name
        .chars()
        .enumerate()
        .map(|(i, c)| if (c.is_ascii_alphanumeric() && !(i == 0 && c.is_ascii_digit())) || c == '_' { c } else { '_' })
        .collect();
    if safe.is_empty() {
        safe.push('_');
    }
    if safe == "all" || safe == "ungrouped" {
        safe.push_str("_group");
    }
    safe
}

/// Each distinct group of `hosts` mapped to its name in the file. A name
/// that is already safe keeps it; a sanitized one that collides with
/// another gets `_2`, `_3`... (in the sorted order of the originals).
fn group_names(hosts: &[ExportHost]) -> BTreeMap<&str, String> {
    let originals: BTreeSet<&str> = hosts.iter().flat_map(|h| h.groups.iter().map(String::as_str)).collect();
    let mut taken: BTreeSet<String> = BTreeSet::new();
    let mut names = BTreeMap::new();
    for name in &originals {
        if safe_group_name(name) == *name {
            taken.insert(name.to_string());
            names.insert(*name, name.to_string());
        }
    }
    for name in originals {
        if names.contains_key(name) {
            continue;
        }
        let base = safe_group_name(name);
        let mut candidate = base.clone();
        let mut n = 2;
        while taken.contains(&candidate) {
            candidate = format!("{base}_{n}");
            n += 1;
        }
        taken.insert(candidate.clone());
        names.insert(name, candidate);
    }
    names
}

fn refuse(what: &'static str, value: &str, reason: &'static str) -> AnsibleError {
    AnsibleError::Unexportable { what, value: value.to_owned(), reason }
}

/// Names, addresses and users are limited to characters that mean the same
/// to Ansible in both formats and to ssh.
fn check(hosts: &[ExportHost]) -> Result<(), AnsibleError> {
    let mut seen = BTreeSet::new();
    for h in hosts {
        let plain = |s: &str, extra: &str| s.chars().all(|c| c.is_ascii_alphanumeric() || extra.contains(c));
        if h.name.is_empty() || !plain(&h.name, "._-") || h.name.starts_with('-') {
            return Err(refuse(
                "server name",
                &h.name,
                "use letters, digits, '.', '_' and '-' only, not starting with '-'",
            ));
        }
        if !seen.insert(h.name.as_str()) {
            return Err(refuse("server name", &h.name, "it appears twice; Ansible would merge the two"));
        }
        if h.host.is_empty() || !plain(&h.host, ".-_:") || h.host.starts_with('-') {
            return Err(refuse(
                "address",
                &h.host,
                "use a DNS name or an IP address (letters, digits, '.', '-', '_', ':'), not starting with '-'",
            ));
        }
        if h.user.is_empty() || !plain(&h.user, "._-@$") || h.user.starts_with('-') {
            return Err(refuse(
                "user",
                &h.user,
                "use letters, digits, '.', '_', '-', '@' and '$' only, not starting with '-'",
            ));
        }
        if h.port == 0 {
            return Err(refuse("port", "0", "use a port from 1 to 65535"));
        }
    }
    Ok(())
}

/// A YAML double-quoted scalar: never read as a number, bool or null.
fn yaml_quote(s: &str) -> String {
    let mut out = String::from("\"");
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            c if c.is_control() => out.push_str(&format!("\\u{:04x}", c as u32)),
            c => out.push(c),
        }
    }
    out.push('"');
    out
}

/// A string for an INI host line: a Python string literal (so
/// `literal_eval` yields this exact string, never a number), inside shlex
/// double quotes (so spaces and `#` survive the split).
fn ini_string(s: &str) -> String {
    let python = format!("'{}'", s.replace('\\', "\\\\").replace('\'', "\\'"));
    format!("\"{}\"", python.replace('\\', "\\\\").replace('"', "\\\""))
}

/// Group name (in the file) to its hosts, in the input order.
fn members<'a>(hosts: &'a [ExportHost], names: &BTreeMap<&str, String>) -> BTreeMap<String, Vec<&'a str>> {
    let mut members: BTreeMap<String, Vec<&str>> = BTreeMap::new();
    for h in hosts {
        for g in &h.groups {
            if let Some(name) = names.get(g.as_str()) {
                let list = members.entry(name.clone()).or_default();
                if !list.contains(&h.name.as_str()) {
                    list.push(&h.name);
                }
            }
        }
    }
    members
}

/// The servers as a YAML inventory: connection variables under
/// `all.hosts`, membership under `all.children`.
pub fn export_yaml(hosts: &[ExportHost]) -> Result<String, AnsibleError> {
    check(hosts)?;
    let names = group_names(hosts);
    let mut out = String::from(HEADER);
    if hosts.is_empty() {
        out.push_str("all: {}\n");
        return Ok(out);
    }
    out.push_str("all:\n  hosts:\n");
    for h in hosts {
        out.push_str(&format!(
            "    {}:\n      ansible_host: {}\n      ansible_port: {}\n      ansible_user: {}\n",
            yaml_quote(&h.name),
            yaml_quote(&h.host),
            h.port,
            yaml_quote(&h.user)
        ));
    }
    let members = members(hosts, &names);
    if !members.is_empty() {
        out.push_str("  children:\n");
        for (group, list) in &members {
            out.push_str(&format!("    {}:\n      hosts:\n", yaml_quote(group)));
            for name in list {
                out.push_str(&format!("        {}:\n", yaml_quote(name)));
            }
        }
    }
    Ok(out)
}

/// The servers as an INI inventory: each host's line (with its variables)
/// before any section, then one `[group]` section per group.
pub fn export_ini(hosts: &[ExportHost]) -> Result<String, AnsibleError> {
    check(hosts)?;
    let names = group_names(hosts);
    let mut out = String::from(HEADER);
    for h in hosts {
        out.push_str(&format!(
            "{} ansible_host={} ansible_port={} ansible_user={}\n",
            h.name,
            ini_string(&h.host),
            h.port,
            ini_string(&h.user)
        ));
    }
    for (group, list) in members(hosts, &names) {
        out.push_str(&format!("\n[{group}]\n"));
        for name in list {
            out.push_str(name);
            out.push('\n');
        }
    }
    Ok(out)
}
