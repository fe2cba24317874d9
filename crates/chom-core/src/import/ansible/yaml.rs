//! YAML inventories, read as ansible-core's `yaml` inventory plugin reads
//! them: top-level keys are groups (usually just `all`), each with
//! `hosts`, `vars` and `children` nested to any depth.
//!
//! saphyr parses the text; its scalars are kept raw (no early parse) so
//! that `scalar` can type them as PyYAML does, and its markers give every
//! error a line. `<<` merge keys are applied as PyYAML applies them.

use std::collections::HashMap;

use saphyr::{AnnotatedMapping, MarkedYaml, ScalarStyle, Tag, YamlData, YamlLoader};
use saphyr_parser::{Parser, ScanError};

use super::model::Graph;
use super::pattern::expand_host_pattern;
use super::scalar::{resolve_plain, resolve_tagged, TagProblem};
use super::{AnsibleError, Location, PatternProblem, Value};

type Node<'i> = MarkedYaml<'i>;
type Mapping<'i> = AnnotatedMapping<'i, Node<'i>>;

enum Kind<'a, 'i> {
    Null,
    Scalar(Value),
    Map(&'a Mapping<'i>),
    Seq(&'a [Node<'i>]),
}

impl Kind<'_, '_> {
    fn name(&self) -> &'static str {
        match self {
            Kind::Null => "nothing (null)",
            Kind::Scalar(Value::String(_)) => "a string",
            Kind::Scalar(_) => "a scalar value",
            Kind::Map(_) => "a mapping",
            Kind::Seq(_) => "a list",
        }
    }
}

/// One key of a mapping after merges: its value, and the nodes for lines.
struct Entry<'a, 'i> {
    key: Value,
    key_node: &'a Node<'i>,
    value: &'a Node<'i>,
}

fn at(path: &str, node: &Node<'_>) -> Location {
    Location::Yaml { path: path.to_owned(), line: node.span.start.line() }
}

fn load(text: &str) -> Result<Vec<Node<'_>>, AnsibleError> {
    let syntax = |e: &ScanError| AnsibleError::Syntax {
        at: Location::Line(e.marker().line()),
        detail: format!("{}; fix the YAML syntax", e.info()),
    };
    let mut parser = Parser::new_from_str(text);
    let mut loader = YamlLoader::<Node<'_>>::default();
    loader.early_parse(false);
    // PyYAML keeps the last of duplicate keys (Ansible warns).
    loader.allow_duplicate_keys(true);
    parser.load(&mut loader, true).map_err(|e| syntax(&e))?;
    if let Some(e) = loader.error() {
        return Err(syntax(e));
    }
    Ok(loader.into_documents())
}

fn tag_name(tag: &Tag) -> String {
    format!("{}{}", tag.handle, tag.suffix)
}

fn kind<'a, 'i>(node: &'a Node<'i>, path: &str) -> Result<Kind<'a, 'i>, AnsibleError> {
    let value = match &node.data {
        YamlData::Representation(text, style, tag) => match tag {
            None if *style == ScalarStyle::Plain => resolve_plain(text),
            None => Value::String(text.to_string()),
            Some(tag) => resolve_tagged(&tag_name(tag), text).map_err(|problem| match problem {
                TagProblem::Unknown => AnsibleError::UnknownTag { at: at(path, node), tag: tag.to_string() },
                TagProblem::BadValue => {
                    AnsibleError::BadTaggedValue { at: at(path, node), tag: tag.to_string(), text: text.to_string() }
                }
            })?,
        },
        YamlData::Value(scalar) => match scalar {
            saphyr::Scalar::Null => Value::Null,
            saphyr::Scalar::Boolean(b) => Value::Bool(*b),
            saphyr::Scalar::Integer(n) => Value::Int(*n),
            saphyr::Scalar::FloatingPoint(x) => Value::Float(x.0),
            saphyr::Scalar::String(s) => Value::String(s.to_string()),
        },
        YamlData::Mapping(map) => return Ok(Kind::Map(map)),
        YamlData::Sequence(items) => return Ok(Kind::Seq(items)),
        YamlData::Tagged(tag, _) => return Err(AnsibleError::UnknownTag { at: at(path, node), tag: tag.to_string() }),
        YamlData::Alias(_) | YamlData::BadValue => {
            return Err(AnsibleError::Structure { at: at(path, node), expected: "a value", found: "an unknown alias" })
        }
    };
    Ok(if value == Value::Null { Kind::Null } else { Kind::Scalar(value) })
}

fn is_merge_key(node: &Node<'_>) -> bool {
    matches!(&node.data, YamlData::Representation(text, ScalarStyle::Plain, None) if text == "<<")
}

/// The mapping as PyYAML builds its dict: `<<` merges first (from a list
/// of mappings, the earlier ones winning), then the mapping's own keys; a
/// repeated key keeps its first place and its last value.
fn entries<'a, 'i>(map: &'a Mapping<'i>, path: &str) -> Result<Vec<Entry<'a, 'i>>, AnsibleError> {
    let mut merged = Vec::new();
    let mut own = Vec::new();
    for (key_node, value) in map.iter() {
        if !is_merge_key(key_node) {
            let key = match kind(key_node, path)? {
                Kind::Null => Value::Null,
                Kind::Scalar(v) => v,
                other => {
                    return Err(AnsibleError::Structure {
                        at: at(path, key_node),
                        expected: "a plain key",
                        found: other.name(),
                    })
                }
            };
            own.push(Entry { key, key_node, value });
            continue;
        }
        match kind(value, path)? {
            Kind::Map(m) => merged.extend(entries(m, path)?),
            Kind::Seq(items) => {
                for item in items.iter().rev() {
                    match kind(item, path)? {
                        Kind::Map(m) => merged.extend(entries(m, path)?),
                        other => return Err(merge_error(path, item, other.name())),
                    }
                }
            }
            other => return Err(merge_error(path, value, other.name())),
        }
    }
    let mut out: Vec<Entry<'a, 'i>> = Vec::new();
    let mut index: HashMap<String, usize> = HashMap::new();
    for entry in merged.into_iter().chain(own) {
        let id = format!("{:?}", entry.key);
        match index.get(&id) {
            Some(i) => out[*i] = entry,
            None => {
                index.insert(id, out.len());
                out.push(entry);
            }
        }
    }
    Ok(out)
}

fn merge_error(path: &str, node: &Node<'_>, found: &'static str) -> AnsibleError {
    AnsibleError::Structure { at: at(path, node), expected: "a mapping (or list of mappings) to merge", found }
}

fn key_text(key: &Value) -> String {
    match key {
        Value::String(s) => s.clone(),
        other => other.to_string(),
    }
}

/// A variable's value; lists and mappings become readable text.
fn value_of(node: &Node<'_>, path: &str) -> Result<Value, AnsibleError> {
    Ok(match kind(node, path)? {
        Kind::Null => Value::Null,
        Kind::Scalar(v) => v,
        Kind::Map(_) | Kind::Seq(_) => Value::Other(render(node, path)?),
    })
}

fn render(node: &Node<'_>, path: &str) -> Result<String, AnsibleError> {
    Ok(match kind(node, path)? {
        Kind::Null => "null".to_owned(),
        Kind::Scalar(v) => v.to_string(),
        Kind::Seq(items) => {
            let parts: Result<Vec<String>, _> = items.iter().map(|i| render(i, path)).collect();
            format!("[{}]", parts?.join(", "))
        }
        Kind::Map(m) => {
            let mut parts = Vec::new();
            for e in entries(m, path)? {
                parts.push(format!("{}: {}", e.key, render(e.value, path)?));
            }
            format!("{{{}}}", parts.join(", "))
        }
    })
}

fn truthy(value: &Value) -> bool {
    match value {
        Value::String(s) | Value::Other(s) => !s.is_empty(),
        Value::Int(n) => *n != 0,
        Value::Bool(b) => *b,
        Value::Float(x) => *x != 0.0,
        Value::Null => false,
    }
}

pub(crate) fn parse_yaml(text: &str) -> Result<Graph, AnsibleError> {
    parse_documents(&load(text)?)
}

/// For [`super::Format::Auto`]: `None` when the text is not a YAML
/// mapping, so it should be read as INI.
pub(crate) fn parse_yaml_if_mapping(text: &str) -> Option<Result<Graph, AnsibleError>> {
    let docs = load(text).ok()?;
    match docs.as_slice() {
        [root] if matches!(root.data, YamlData::Mapping(_)) => Some(parse_documents(&docs)),
        _ => None,
    }
}

/// Deeper than this, a document is refused before the recursive walk.
/// Each level of groups takes two (`children:` and the group), so this
/// allows some fifty levels of groups.
const MAX_NESTING: usize = 100;

fn check_nesting(root: &Node<'_>) -> Result<(), AnsibleError> {
    let mut stack = vec![(root, 1usize)];
    while let Some((node, depth)) = stack.pop() {
        if depth > MAX_NESTING {
            return Err(AnsibleError::Structure {
                at: at("(nested)", node),
                expected: "at most 100 levels of nesting",
                found: "deeper nesting",
            });
        }
        match &node.data {
            YamlData::Sequence(items) => stack.extend(items.iter().map(|i| (i, depth + 1))),
            YamlData::Mapping(m) => stack.extend(m.iter().flat_map(|(k, v)| [(k, depth + 1), (v, depth + 1)])),
            YamlData::Tagged(_, inner) => stack.push((inner.as_ref(), depth + 1)),
            _ => {}
        }
    }
    Ok(())
}

fn parse_documents(docs: &[Node<'_>]) -> Result<Graph, AnsibleError> {
    let root = match docs {
        [] => return Err(AnsibleError::EmptyYaml),
        [root] => root,
        _ => return Err(AnsibleError::MultipleDocuments { count: docs.len() }),
    };
    check_nesting(root)?;
    let map = match kind(root, "(top)")? {
        Kind::Null => return Err(AnsibleError::EmptyYaml),
        Kind::Map(m) if m.is_empty() => return Err(AnsibleError::EmptyYaml),
        Kind::Map(m) => m,
        other => {
            return Err(AnsibleError::Structure {
                at: at("(top)", root),
                expected: "a mapping of groups, such as `all:`",
                found: other.name(),
            })
        }
    };
    let top = entries(map, "(top)")?;
    if let Some(plugin) = top.iter().find(|e| e.key == Value::String("plugin".into())) {
        let value = value_of(plugin.value, "plugin")?;
        if truthy(&value) {
            return Err(AnsibleError::PluginConfig { plugin: key_text(&value) });
        }
    }
    let mut graph = Graph::new();
    for entry in top {
        let name = group_name(&entry, "(top)")?;
        parse_group(&mut graph, &name, entry.value, &name)?;
    }
    Ok(graph)
}

fn group_name(entry: &Entry<'_, '_>, path: &str) -> Result<String, AnsibleError> {
    match &entry.key {
        Value::String(s) if !s.is_empty() => Ok(s.clone()),
        _ => Err(AnsibleError::Structure {
            at: at(path, entry.key_node),
            expected: "a group name (a non-empty string)",
            found: "another kind of key",
        }),
    }
}

/// One key of a section; `value` is `None` for the string form.
type Item<'a, 'i> = (Value, &'a Node<'i>, Option<&'a Node<'i>>);

/// A section (`hosts`, `vars`, `children`) as key/value pairs: a mapping,
/// or a lone string meaning `{string: null}`.
fn section<'a, 'i>(entry: &Entry<'a, 'i>, path: &str) -> Result<Vec<Item<'a, 'i>>, AnsibleError> {
    Ok(match kind(entry.value, path)? {
        Kind::Null => Vec::new(),
        Kind::Scalar(s @ Value::String(_)) => vec![(s, entry.value, None)],
        Kind::Map(m) => entries(m, path)?.into_iter().map(|e| (e.key, e.key_node, Some(e.value))).collect(),
        other => {
            return Err(AnsibleError::Structure {
                at: at(path, entry.value),
                expected: "a mapping",
                found: other.name(),
            })
        }
    })
}

/// `_parse_group`: a group's data is a mapping or null; anything else is
/// skipped (Ansible only warns), and then `None` is returned.
fn parse_group(graph: &mut Graph, name: &str, node: &Node<'_>, path: &str) -> Result<Option<usize>, AnsibleError> {
    let map = match kind(node, path)? {
        Kind::Null => return Ok(Some(graph.add_group(name))),
        Kind::Map(m) => m,
        _ => return Ok(None),
    };
    let group = graph.add_group(name);
    for entry in entries(map, path)? {
        let Value::String(key) = &entry.key else { continue };
        let path = format!("{path}.{key}");
        match key.as_str() {
            "vars" => {
                for (var, var_node, value) in section(&entry, &path)? {
                    let var_path = format!("{path}.{}", key_text(&var));
                    let value = match value {
                        Some(v) => value_of(v, &var_path)?,
                        None => Value::Null,
                    };
                    let shown = value.to_string();
                    graph.set_group_var(group, &key_text(&var), value).map_err(|_| AnsibleError::InvalidPriority {
                        at: at(&var_path, var_node),
                        group: name.to_owned(),
                        value: shown,
                    })?;
                }
            }
            "children" => {
                for (child, child_node, value) in section(&entry, &path)? {
                    let child_entry = Entry { key: child, key_node: child_node, value: value.unwrap_or(child_node) };
                    let child_name = group_name(&child_entry, &path)?;
                    let child_path = format!("{path}.{child_name}");
                    let parsed = match value {
                        Some(v) => parse_group(graph, &child_name, v, &child_path)?,
                        None => Some(graph.add_group(&child_name)),
                    };
                    let Some(child) = parsed.or_else(|| graph.group(&child_name)) else {
                        return Err(AnsibleError::Structure {
                            at: at(&child_path, child_node),
                            expected: "a group definition (a mapping or null)",
                            found: "another kind of value",
                        });
                    };
                    graph
                        .add_child(group, child)
                        .map_err(|cycle| AnsibleError::Cycle { at: at(&child_path, child_node), cycle })?;
                }
            }
            "hosts" => {
                for (pattern, pattern_node, value) in section(&entry, &path)? {
                    parse_hosts(graph, group, pattern, pattern_node, value, &path)?;
                }
            }
            // Ansible warns about any other key and goes on.
            _ => {}
        }
    }
    Ok(Some(group))
}

fn parse_hosts(
    graph: &mut Graph,
    group: usize,
    pattern: Value,
    pattern_node: &Node<'_>,
    value: Option<&Node<'_>>,
    path: &str,
) -> Result<(), AnsibleError> {
    let shown = key_text(&pattern);
    let here = at(&format!("{path}.{shown}"), pattern_node);
    let Value::String(pattern) = pattern else {
        return Err(AnsibleError::HostPattern { at: here, pattern: shown, problem: PatternProblem::NotAString });
    };
    let expanded = expand_host_pattern(&pattern).map_err(|problem| AnsibleError::Range {
        at: here.clone(),
        pattern: pattern.clone(),
        problem,
    })?;
    if expanded.hosts.iter().any(String::is_empty) {
        return Err(AnsibleError::HostPattern { at: here, pattern, problem: PatternProblem::Empty });
    }
    let host_path = format!("{path}.{pattern}");
    // `host_vars or {}`: any false-ish value means no variables.
    let mut vars = Vec::new();
    if let Some(node) = value {
        match kind(node, &host_path)? {
            Kind::Map(m) => {
                for e in entries(m, &host_path)? {
                    let var_path = format!("{host_path}.{}", key_text(&e.key));
                    vars.push((key_text(&e.key), value_of(e.value, &var_path)?));
                }
            }
            Kind::Null => {}
            Kind::Scalar(v) if !truthy(&v) => {}
            Kind::Seq([]) => {}
            other => {
                return Err(AnsibleError::Structure {
                    at: at(&host_path, node),
                    expected: "a mapping of host variables",
                    found: other.name(),
                })
            }
        }
    }
    for name in &expanded.hosts {
        let host = graph.add_host(name, group, expanded.port.as_ref());
        for (key, value) in &vars {
            graph.set_host_var(host, key, value.clone());
        }
    }
    Ok(())
}
