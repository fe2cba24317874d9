//! Remote scripts: a fixed body from this crate, the shared helpers, and
//! variables that are validated by their types and shell-quoted here, in
//! the one place. Scripts talk back with `@@chom <event> <text>` lines.

use crate::ssh::quote::quote;
use crate::validate::ValidationError;

const COMMON: &str = include_str!("common.sh");

pub struct Script {
    name: &'static str,
    vars: String,
    body: &'static str,
}

impl Script {
    pub fn new(name: &'static str, body: &'static str) -> Script {
        Script { name, vars: String::new(), body }
    }

    /// Sets shell variable `name` to `value`, quoted. Names are fixed by
    /// this crate; values may come from anywhere.
    pub fn var(mut self, name: &'static str, value: &str) -> Result<Script, ValidationError> {
        debug_assert!(name.bytes().all(|b| b.is_ascii_uppercase() || b == b'_' || b.is_ascii_digit()));
        self.vars.push_str(&format!("{name}={}\n", quote(value)?));
        Ok(self)
    }

    pub fn name(&self) -> &'static str {
        self.name
    }

    /// The command line to run: `sh -c '<the whole script>'`, so the
    /// login shell of the remote user does not matter.
    pub fn command(&self) -> String {
        let text = format!("set -eu\numask 022\nexport LC_ALL=C\n{}{COMMON}\n{}", self.vars, self.body);
        format!("sh -c {} chom-{}", quote(&text).expect("scripts hold no NUL"), self.name)
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RemoteEvent {
    Step(String),
    Changed(String),
    Unchanged(String),
    Error(String),
    /// A result the script hands back: `@@chom value KEY VALUE`.
    Value(String, String),
}

impl RemoteEvent {
    pub fn parse(line: &str) -> Option<RemoteEvent> {
        let rest = line.strip_prefix("@@chom ")?;
        let (event, text) = rest.split_once(' ').unwrap_or((rest, ""));
        let text = text.to_owned();
        Some(match event {
            "step" => RemoteEvent::Step(text),
            "changed" => RemoteEvent::Changed(text),
            "unchanged" => RemoteEvent::Unchanged(text),
            "error" => RemoteEvent::Error(text),
            "value" => {
                let (k, v) = text.split_once(' ').unwrap_or((&text, ""));
                RemoteEvent::Value(k.to_owned(), v.to_owned())
            }
            _ => return None,
        })
    }
}

/// What a script reported, in order.
#[derive(Debug, Clone, Default)]
pub struct Report {
    pub events: Vec<RemoteEvent>,
}

impl Report {
    /// The events among a finished script's output lines.
    pub fn from_output(stdout: &str) -> Report {
        Report { events: stdout.lines().filter_map(RemoteEvent::parse).collect() }
    }

    pub fn push_line(&mut self, line: &str) -> Option<&RemoteEvent> {
        let e = RemoteEvent::parse(line)?;
        self.events.push(e);
        self.events.last()
    }

    pub fn value(&self, key: &str) -> Option<&str> {
        self.events.iter().rev().find_map(|e| match e {
            RemoteEvent::Value(k, v) if k == key => Some(v.as_str()),
            _ => None,
        })
    }

    pub fn error(&self) -> Option<&str> {
        self.events.iter().rev().find_map(|e| match e {
            RemoteEvent::Error(t) => Some(t.as_str()),
            _ => None,
        })
    }

    pub fn last_step(&self) -> Option<&str> {
        self.events.iter().rev().find_map(|e| match e {
            RemoteEvent::Step(t) => Some(t.as_str()),
            _ => None,
        })
    }

    pub fn changed(&self) -> Vec<&str> {
        self.events
            .iter()
            .filter_map(|e| match e {
                RemoteEvent::Changed(t) => Some(t.as_str()),
                _ => None,
            })
            .collect()
    }

    pub fn unchanged(&self) -> Vec<&str> {
        self.events
            .iter()
            .filter_map(|e| match e {
                RemoteEvent::Unchanged(t) => Some(t.as_str()),
                _ => None,
            })
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn events_parse_and_other_lines_do_not() {
        assert_eq!(RemoteEvent::parse("@@chom step upload"), Some(RemoteEvent::Step("upload".into())));
        assert_eq!(
            RemoteEvent::parse("@@chom value release 20261124-1"),
            Some(RemoteEvent::Value("release".into(), "20261124-1".into()))
        );
        assert_eq!(RemoteEvent::parse("chom step x"), None);
        assert_eq!(RemoteEvent::parse("@@chom bogus x"), None);
    }

    /// Hostile values reach the script as data: run the command with a
    /// real `sh` and read the variables back.
    #[test]
    fn variables_are_data_not_code() {
        let hostile = ["a.com;touch /tmp/chom-pwned", "$(id)", "`id`", "x'y\"z", "new\nline"];
        for v in hostile {
            let script = Script::new("t", "printf %s \"$V\"").var("V", v).unwrap();
            let out = std::process::Command::new("sh").arg("-c").arg(script.command()).output().unwrap();
            let stdout = String::from_utf8_lossy(&out.stdout);
            // Every script first says its PID, by which a cancel stops it.
            let (pid, printed) = stdout.split_once('\n').unwrap();
            assert!(pid.strip_prefix("@@chom value pid ").is_some_and(|p| p.parse::<u32>().is_ok()), "{pid}");
            assert_eq!(printed, v);
        }
        assert!(!std::path::Path::new("/tmp/chom-pwned").exists());
    }
}
