//! INI inventories, read as ansible-core's `ini` inventory plugin reads
//! them: one pass over the lines, as if the file began with `[ungrouped]`.
//!
//! A `[group:children]` entry may name a group declared further down, and a
//! `[group:vars]` section may come before `[group]`; both are kept pending
//! until the declaration, and an error if it never comes.

use super::literal::literal_eval;
use super::model::{Graph, UNGROUPED};
use super::pattern::expand_host_pattern;
use super::{shlex, AnsibleError, Location, PatternProblem, Value};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum State {
    Hosts,
    Children,
    Vars,
}

#[derive(Debug)]
enum Pending {
    /// `[group:vars]` seen at this line before any declaration.
    Vars { line: usize },
    /// Named in `[parent:children]` (first at `line`) before declared.
    Children { line: usize, parents: Vec<usize> },
}

/// Ansible keeps these in a dict, so the first still pending at the end is
/// the one reported.
#[derive(Default)]
struct PendingList(Vec<(String, Pending)>);

impl PendingList {
    fn get(&self, name: &str) -> Option<&Pending> {
        self.0.iter().find(|(n, _)| n == name).map(|(_, p)| p)
    }

    fn get_mut(&mut self, name: &str) -> Option<&mut Pending> {
        self.0.iter_mut().find(|(n, _)| n == name).map(|(_, p)| p)
    }

    fn remove(&mut self, name: &str) -> Option<Pending> {
        let at = self.0.iter().position(|(n, _)| n == name)?;
        Some(self.0.remove(at).1)
    }
}

/// Python's `str.splitlines`, which also breaks at `\r`, `\v`, `\f` and a
/// few Unicode separators, so line numbers match Ansible's.
fn split_lines(text: &str) -> Vec<&str> {
    let mut lines = Vec::new();
    let mut start = 0;
    let mut chars = text.char_indices().peekable();
    while let Some((i, c)) = chars.next() {
        let breaks =
            matches!(c, '\n' | '\r' | '\x0b' | '\x0c' | '\x1c' | '\x1d' | '\x1e' | '\u{85}' | '\u{2028}' | '\u{2029}');
        if breaks {
            lines.push(&text[start..i]);
            let mut end = i + c.len_utf8();
            if c == '\r' && chars.peek().is_some_and(|(_, n)| *n == '\n') {
                chars.next();
                end += 1;
            }
            start = end;
        }
    }
    if start < text.len() {
        lines.push(&text[start..]);
    }
    lines
}

/// The text up to the first `:`, `]` or whitespace (Ansible's group-name
/// class `[^:\]\s]+`), and what follows it.
fn group_token(s: &str) -> (&str, &str) {
    let end = s.find(|c: char| c == ':' || c == ']' || c.is_whitespace()).unwrap_or(s.len());
    s.split_at(end)
}

/// Nothing, or whitespace and then an optional `#` comment.
fn only_comment(rest: &str) -> bool {
    let rest = rest.trim_start();
    rest.is_empty() || rest.starts_with('#')
}

/// `^\[([^:\]\s]+)(?::(\w+))?\]\s*(?:#.*)?$`: the group and the section type.
fn section(line: &str) -> Option<(&str, Option<&str>)> {
    let (name, rest) = group_token(line.strip_prefix('[')?);
    if name.is_empty() {
        return None;
    }
    let (kind, rest) = match rest.strip_prefix(':') {
        Some(after) => {
            let end = after.find(|c: char| !(c.is_alphanumeric() || c == '_')).unwrap_or(after.len());
            if end == 0 {
                return None;
            }
            (Some(&after[..end]), &after[end..])
        }
        None => (None, rest),
    };
    let rest = rest.strip_prefix(']')?;
    only_comment(rest).then_some((name, kind))
}

/// A host line's values, and `[group:vars]` values too: ansible-core 2.19
/// passes both through `literal_eval` (its documentation says `:vars`
/// values stay strings; its code and `ansible-inventory` say otherwise).
fn parse_value(text: &str) -> Value {
    literal_eval(text).unwrap_or_else(|| Value::String(text.to_owned()))
}

struct IniParser {
    graph: Graph,
    pending: PendingList,
    line: usize,
}

pub(crate) fn parse_ini(text: &str) -> Result<Graph, AnsibleError> {
    let mut p = IniParser { graph: Graph::new(), pending: PendingList::default(), line: 0 };
    let mut group = UNGROUPED;
    let mut state = State::Hosts;
    for (i, raw) in split_lines(text).into_iter().enumerate() {
        p.line = i + 1;
        let line = raw.trim();
        if line.is_empty() || line.starts_with('#') || line.starts_with(';') {
            continue;
        }
        if let Some((name, kind)) = section(line) {
            state = match kind {
                None | Some("hosts") => State::Hosts,
                Some("children") => State::Children,
                Some("vars") => State::Vars,
                Some(other) => {
                    return Err(AnsibleError::UnknownSectionType {
                        at: p.at(),
                        group: name.to_owned(),
                        kind: other.to_owned(),
                    })
                }
            };
            group = p.declare(name, state)?;
            continue;
        }
        if line.starts_with('[') && line.ends_with(']') {
            return Err(AnsibleError::InvalidSection { at: p.at(), text: line.to_owned() });
        }
        match state {
            State::Hosts => p.host_line(line, group)?,
            State::Vars => p.vars_line(line, group)?,
            State::Children => p.child_line(line, group)?,
        }
    }
    if let Some((name, pending)) = p.pending.0.first() {
        return Err(match pending {
            Pending::Vars { line } => {
                AnsibleError::VarsForUndefinedGroup { at: Location::Line(*line), group: name.clone() }
            }
            Pending::Children { line, parents } => AnsibleError::UndefinedChild {
                at: Location::Line(*line),
                parent: parents.last().map(|g| p.graph.group_name(*g).to_owned()).unwrap_or_default(),
                child: name.clone(),
            },
        });
    }
    Ok(p.graph)
}

impl IniParser {
    fn at(&self) -> Location {
        Location::Line(self.line)
    }

    fn cycle(&self, cycle: Vec<String>) -> AnsibleError {
        AnsibleError::Cycle { at: self.at(), cycle }
    }

    /// A section header: declares the group (only `[g]` and `[g:children]`
    /// count as declarations) and settles what waited for it.
    fn declare(&mut self, name: &str, state: State) -> Result<usize, AnsibleError> {
        if self.graph.group(name).is_none() && state == State::Vars && self.pending.get(name).is_none() {
            self.pending.0.push((name.to_owned(), Pending::Vars { line: self.line }));
        }
        let id = self.graph.add_group(name);
        if state != State::Vars {
            match self.pending.get(name) {
                Some(Pending::Children { .. }) => self.add_pending_children(name)?,
                Some(Pending::Vars { .. }) => {
                    self.pending.remove(name);
                }
                None => {}
            }
        }
        Ok(id)
    }

    /// Ansible's `_add_pending_children`, recursion included.
    fn add_pending_children(&mut self, name: &str) -> Result<(), AnsibleError> {
        let Some(Pending::Children { parents, .. }) = self.pending.get(name) else {
            return Ok(());
        };
        let parents = parents.clone();
        let child = self.graph.add_group(name);
        for parent in parents {
            self.graph.add_child(parent, child).map_err(|c| self.cycle(c))?;
            let parent_name = self.graph.group_name(parent).to_owned();
            if matches!(self.pending.get(&parent_name), Some(Pending::Children { .. })) {
                self.add_pending_children(&parent_name)?;
            }
        }
        self.pending.remove(name);
        Ok(())
    }

    fn host_line(&mut self, line: &str, group: usize) -> Result<(), AnsibleError> {
        let tokens = shlex::split(line, true)
            .map_err(|e| AnsibleError::Syntax { at: self.at(), detail: e.detail().to_owned() })?;
        let Some((pattern, assignments)) = tokens.split_first() else {
            return Err(AnsibleError::HostPattern {
                at: self.at(),
                pattern: String::new(),
                problem: PatternProblem::Empty,
            });
        };
        let expanded = expand_host_pattern(pattern).map_err(|problem| AnsibleError::Range {
            at: self.at(),
            pattern: pattern.clone(),
            problem,
        })?;
        let refuse = |problem| AnsibleError::HostPattern { at: self.at(), pattern: pattern.clone(), problem };
        if pattern.trim().ends_with(':') && expanded.port.is_none() {
            return Err(refuse(PatternProblem::EndsInColon));
        }
        if expanded.hosts.iter().any(|h| h.trim() == "---") {
            return Err(refuse(PatternProblem::LooksLikeYaml));
        }
        if expanded.hosts.iter().any(String::is_empty) {
            return Err(refuse(PatternProblem::Empty));
        }
        let mut vars = Vec::new();
        for token in assignments {
            let Some((key, value)) = token.split_once('=') else {
                return Err(AnsibleError::ExpectedKeyValue { at: self.at(), got: token.clone() });
            };
            vars.push((key.to_owned(), parse_value(value)));
        }
        for name in &expanded.hosts {
            let host = self.graph.add_host(name, group, expanded.port.as_ref());
            for (key, value) in &vars {
                self.graph.set_host_var(host, key, value.clone());
            }
        }
        Ok(())
    }

    fn vars_line(&mut self, line: &str, group: usize) -> Result<(), AnsibleError> {
        let Some((key, value)) = line.split_once('=') else {
            return Err(AnsibleError::ExpectedKeyValue { at: self.at(), got: line.to_owned() });
        };
        let value = parse_value(value.trim());
        let shown = value.to_string();
        self.graph.set_group_var(group, key.trim(), value).map_err(|_| AnsibleError::InvalidPriority {
            at: self.at(),
            group: self.graph.group_name(group).to_owned(),
            value: shown,
        })
    }

    fn child_line(&mut self, line: &str, group: usize) -> Result<(), AnsibleError> {
        let (child, rest) = group_token(line);
        if child.is_empty() || !only_comment(rest) {
            return Err(AnsibleError::ExpectedGroupName { at: self.at(), got: line.to_owned() });
        }
        match self.graph.group(child) {
            Some(id) => self.graph.add_child(group, id).map_err(|c| self.cycle(c)),
            None => {
                match self.pending.get_mut(child) {
                    Some(Pending::Children { parents, .. }) => parents.push(group),
                    // A pending `:vars` entry for a group not yet declared is
                    // impossible here: the `:vars` header added the group.
                    Some(Pending::Vars { .. }) => {}
                    None => self
                        .pending
                        .0
                        .push((child.to_owned(), Pending::Children { line: self.line, parents: vec![group] })),
                }
                Ok(())
            }
        }
    }
}
