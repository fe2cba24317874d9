//! Ansible inventories (INI and YAML), read and written.
//!
//! Reading follows ansible-core's own `ini` and `yaml` inventory plugins
//! (2.19), so a file means here what it means to `ansible-inventory --list`:
//! the same hosts, groups, variable types and precedence. Where this module
//! deliberately differs, it refuses rather than guesses: a range that counts
//! down (`web[20:01]`, which Ansible silently expands to no hosts), a range
//! of more than [`MAX_RANGE_HOSTS`] hosts, and connection variables that are
//! not a usable host, port or user are errors.
//!
//! Resolution of a host's variables is Ansible's: `all` first, then every
//! group the host is in (directly or through `children`) from the shallowest
//! to the deepest, ties broken by `ansible_group_priority` and then by name,
//! and the host's own variables last.
//!
//! Writing ([`export_yaml`], [`export_ini`]) produces files that
//! `ansible-inventory` reads back to the same hosts, addresses, ports, users
//! and groups; the tests check both directions against the real tool when it
//! is installed.
//!
//! Not covered: `group_vars/` and `host_vars/` folders beside the file (only
//! the text handed in is read), Ansible settings that change parsing (such
//! as `TRANSFORM_INVALID_GROUP_CHARS`), Jinja templates in values (kept as
//! written), vault-encrypted values (kept as [`Value::Other`], so a vaulted
//! connection variable is an error), Python's `\N{NAME}` escapes and complex
//! numbers (kept as text), and other inventory plugins.

mod error;
mod export;
mod ini;
mod literal;
mod model;
mod pattern;
mod proxy;
mod scalar;
mod shlex;
mod yaml;

#[cfg(test)]
mod tests;

use std::fmt;

pub use error::{AnsibleError, Location, PatternProblem, RangeProblem};
pub use export::{export_ini, export_yaml, safe_group_name, ExportHost};
pub use model::{Inventory, InventoryHost};
pub use pattern::MAX_RANGE_HOSTS;

/// Which of Ansible's inventory plugins reads the text.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    Ini,
    Yaml,
    /// As Ansible picks for a file without a telling extension: YAML when
    /// the text is a YAML mapping, INI otherwise.
    Auto,
}

/// A variable's value, typed as Ansible types it.
///
/// INI values (host lines and `[group:vars]` alike, since ansible-core 2.19
/// passes both through `ast.literal_eval`) are Python literals: `2222` is an
/// int, `"'2222'"` a string, `True` a bool; text that is not a literal stays
/// a string. YAML values are typed by PyYAML's YAML 1.1 rules (`yes` is a
/// bool, `0022` the octal int 18).
#[derive(Debug, Clone, PartialEq)]
pub enum Value {
    String(String),
    Int(i64),
    Bool(bool),
    Float(f64),
    /// Python's `None`, YAML's `null` / `~` / empty value.
    Null,
    /// A list, mapping, date, vault blob or integer too big for `i64`:
    /// kept as readable text, never interpreted.
    Other(String),
}

impl Value {
    pub fn as_str(&self) -> Option<&str> {
        match self {
            Value::String(s) => Some(s),
            _ => None,
        }
    }
}

impl fmt::Display for Value {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Value::String(s) => write!(f, "{s:?}"),
            Value::Int(n) => write!(f, "{n}"),
            Value::Bool(b) => write!(f, "{b}"),
            Value::Float(x) => write!(f, "{x}"),
            Value::Null => f.write_str("null"),
            Value::Other(text) => f.write_str(text),
        }
    }
}

/// Reads an inventory and resolves every host's connection settings.
pub fn parse(text: &str, format: Format) -> Result<Inventory, AnsibleError> {
    let graph = match format {
        Format::Ini => ini::parse_ini(text)?,
        Format::Yaml => yaml::parse_yaml(text)?,
        Format::Auto => match yaml::parse_yaml_if_mapping(text) {
            Some(result) => result?,
            None => ini::parse_ini(text)?,
        },
    };
    graph.finish()
}
