//! What can go wrong reading or writing an inventory, and where.

use std::fmt;

use crate::code::ErrorCode;

/// Where in the inventory a problem is: a line of an INI file, or a path of
/// keys (and its line) in a YAML document.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Location {
    Line(usize),
    Yaml {
        path: String,
        line: usize,
    },
    /// The problem is with a host as a whole (its resolved variables).
    Host(String),
}

impl fmt::Display for Location {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Location::Line(line) => write!(f, "inventory line {line}"),
            Location::Yaml { path, line } => write!(f, "inventory {path} (line {line})"),
            Location::Host(name) => write!(f, "inventory host {name}"),
        }
    }
}

/// Why a `[begin:end:step]` range in a host name can not be expanded.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RangeProblem {
    CountsDown,
    UnequalWidth,
    NoEnd,
    BadStep,
    NotBeginEnd,
    NotANumber,
    TooMany,
}

impl fmt::Display for RangeProblem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            RangeProblem::CountsDown => "counts down; write the smaller bound first",
            RangeProblem::UnequalWidth => {
                "has a zero-padded begin and an end of another width; pad both to the same width"
            }
            RangeProblem::NoEnd => "has no end value; write it as [begin:end]",
            RangeProblem::BadStep => "has a step that is not a whole number of 1 or more",
            RangeProblem::NotBeginEnd => "is not [begin:end] or [begin:end:step]",
            RangeProblem::NotANumber => "has bounds that are neither letters nor whole numbers",
            RangeProblem::TooMany => "expands to too many hosts; split it into smaller ranges",
        })
    }
}

/// Why a host pattern is refused (Ansible's INI plugin refuses the same).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PatternProblem {
    EndsInColon,
    LooksLikeYaml,
    Empty,
    NotAString,
}

impl fmt::Display for PatternProblem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            PatternProblem::EndsInColon => "ends in ':'; put the port after it (host:2222) or drop the ':'",
            PatternProblem::LooksLikeYaml => "is '---', the start of a YAML document; read the file as YAML",
            PatternProblem::Empty => "is empty; give the host a name",
            PatternProblem::NotAString => "is not a string; quote it",
        })
    }
}

#[derive(Debug, thiserror::Error)]
pub enum AnsibleError {
    #[error("{at}: {detail}")]
    Syntax { at: Location, detail: String },
    #[error("{at}: range {pattern} {problem}")]
    Range { at: Location, pattern: String, problem: RangeProblem },
    #[error("{at}: host pattern {pattern:?} {problem}")]
    HostPattern { at: Location, pattern: String, problem: PatternProblem },
    #[error(
        "{at}: section [{group}:{kind}] has unknown type {kind:?}; use [{group}], [{group}:children] or [{group}:vars]"
    )]
    UnknownSectionType { at: Location, group: String, kind: String },
    #[error("{at}: invalid section {text:?}; a section is [group], [group:children] or [group:vars], without spaces")]
    InvalidSection { at: Location, text: String },
    #[error("{at}: expected key=value, got {got:?}; quote a value that contains spaces")]
    ExpectedKeyValue { at: Location, got: String },
    #[error("{at}: expected a group name, got {got:?}")]
    ExpectedGroupName { at: Location, got: String },
    #[error("{at}: [{group}:vars] is for group {group}, which is never declared; add a [{group}] section")]
    VarsForUndefinedGroup { at: Location, group: String },
    #[error("{at}: [{parent}:children] lists group {child}, which is never declared; add a [{child}] section")]
    UndefinedChild { at: Location, parent: String, child: String },
    #[error("{at}: groups form a cycle through their children: {}; remove one of these children entries", .cycle.join(" -> "))]
    Cycle { at: Location, cycle: Vec<String> },
    #[error("{at}: ansible_group_priority of group {group} is {value}, not a whole number")]
    InvalidPriority { at: Location, group: String, value: String },
    #[error("{at}: found {found} where Ansible expects {expected}")]
    Structure { at: Location, expected: &'static str, found: &'static str },
    #[error("{at}: YAML tag {tag} is not one Ansible reads; remove it or quote the value")]
    UnknownTag { at: Location, tag: String },
    #[error("{at}: {text:?} is not a valid {tag} value")]
    BadTaggedValue { at: Location, tag: String, text: String },
    #[error("the YAML inventory is empty; it needs at least an `all:` group")]
    EmptyYaml,
    #[error("the YAML holds {count} documents; an inventory is one document, so remove the extra `---`")]
    MultipleDocuments { count: usize },
    #[error("this YAML configures the inventory plugin {plugin:?} instead of listing hosts; expand it with ansible-inventory and import that output")]
    PluginConfig { plugin: String },
    #[error("{at}: {var} is {value}, which is not {expected}")]
    InvalidVar { at: Location, var: &'static str, value: String, expected: &'static str },
    #[error("{what} {value:?} can not be written to an Ansible inventory: {reason}")]
    Unexportable { what: &'static str, value: String, reason: &'static str },
}

impl AnsibleError {
    /// Every failure here is about the file or the values handed in, never
    /// about this computer or the network.
    pub fn code(&self) -> ErrorCode {
        ErrorCode::InvalidInput
    }
}
