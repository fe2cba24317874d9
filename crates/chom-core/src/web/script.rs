//! Remote scripts: a fixed body from `assets/remote/`, the shared helpers,
//! and variables that are validated by their types and shell-quoted here,
//! in the one place. Scripts talk back with `@@chom:TOKEN <event> <text>`
//! lines, where TOKEN is random per run and reaches the script as the first
//! line of its stdin: never on a command line (`ps` shows those to every
//! user), never to what the script runs as a site's user. A line without
//! it (a hook's, composer's, the site's code's) is only output.

use std::io::Cursor;

use tokio::io::AsyncReadExt;

use crate::ssh::quote::quote;
use crate::ssh::Input;
use crate::validate::ValidationError;

use super::assets::{COMMON, LAYOUT};
/// At most this many events are kept from one run.
const MAX_EVENTS: usize = 10_000;

pub struct Script {
    name: &'static str,
    vars: String,
    includes: &'static [&'static str],
    body: &'static str,
    token: String,
}

impl Script {
    pub fn new(name: &'static str, body: &'static str) -> Script {
        Script::with(name, &[], body)
    }

    /// A script that works in a site's folders: the layout's helpers come first.
    pub fn in_site(name: &'static str, body: &'static str) -> Script {
        Script::with(name, &[LAYOUT], body)
    }

    fn with(name: &'static str, includes: &'static [&'static str], body: &'static str) -> Script {
        let token = format!("{:032x}", rand::random::<u128>());
        Script { name, vars: String::new(), includes, body, token }
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
    /// login shell of the remote user does not matter. It holds no secret
    /// and not the token.
    pub fn command(&self) -> String {
        format!("sh -c {} chom-{}", quote(&self.text()).expect("scripts hold no NUL"), self.name)
    }

    /// The whole script, as a file a server keeps and runs by itself (a
    /// schedule's), with the token its runner must send as stdin's first line.
    pub fn standalone(&self) -> (String, &str) {
        (self.text(), &self.token)
    }

    fn text(&self) -> String {
        let includes: String = self.includes.iter().map(|i| format!("{i}\n")).collect();
        format!("set -eu\numask 027\nexport LC_ALL=C\n{}{COMMON}\n{includes}{}", self.vars, self.body)
    }

    /// The script's stdin: the token's line, who runs it (`holder`, what a
    /// run that finds the site locked is told), then `input`.
    pub fn stdin(&self, holder: &str, input: Option<Input>) -> Input {
        let holder: String = holder.chars().map(|c| if c.is_control() { ' ' } else { c }).take(200).collect();
        let first = Cursor::new(format!("{}\n{holder}\n", self.token).into_bytes());
        match input {
            Some(input) => Box::new(first.chain(input)),
            None => Box::new(first),
        }
    }

    /// An empty report that takes this run's events.
    pub fn report(&self) -> Report {
        Report { prefix: format!("@@chom:{} ", self.token), events: Vec::new() }
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
    /// The script is alive (it writes one every 2 s while a site's command
    /// runs, so it notices a lost connection); nothing to show.
    Beat,
}

impl RemoteEvent {
    /// `rest`: a line after its `@@chom:TOKEN ` prefix.
    fn parse(rest: &str) -> Option<RemoteEvent> {
        let (event, text) = rest.split_once(' ').unwrap_or((rest, ""));
        let text = text.to_owned();
        Some(match event {
            "step" => RemoteEvent::Step(text),
            "changed" => RemoteEvent::Changed(text),
            "unchanged" => RemoteEvent::Unchanged(text),
            "error" => RemoteEvent::Error(text),
            "beat" => RemoteEvent::Beat,
            "value" => {
                let (k, v) = text.split_once(' ').unwrap_or((&text, ""));
                RemoteEvent::Value(k.to_owned(), v.to_owned())
            }
            _ => return None,
        })
    }
}

/// What a script reported, in order: only lines that carry its run's token.
#[derive(Debug, Clone, Default)]
pub struct Report {
    prefix: String,
    pub events: Vec<RemoteEvent>,
}

impl Report {
    /// Takes the events among a finished script's output lines.
    pub fn read(mut self, stdout: &str) -> Report {
        for line in stdout.lines() {
            self.push_line(line);
        }
        self
    }

    /// The event on `line`, if it is one of this run's (and there is room).
    pub fn push_line(&mut self, line: &str) -> Option<&RemoteEvent> {
        if self.prefix.is_empty() || self.events.len() >= MAX_EVENTS {
            return None;
        }
        let e = RemoteEvent::parse(line.strip_prefix(self.prefix.as_str())?)?;
        self.events.push(e);
        self.events.last()
    }

    pub fn value(&self, key: &str) -> Option<&str> {
        self.events.iter().rev().find_map(|e| match e {
            RemoteEvent::Value(k, v) if k == key => Some(v.as_str()),
            _ => None,
        })
    }

    /// Value `key` as a count or size: 0 when it is absent or no number.
    pub fn number(&self, key: &str) -> u64 {
        self.value(key).and_then(|v| v.trim().parse().ok()).unwrap_or(0)
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

    fn run(script: &Script) -> (Report, String) {
        use std::io::Write;
        let mut child = std::process::Command::new("sh")
            .arg("-c")
            .arg(script.command())
            .stdin(std::process::Stdio::piped())
            .stdout(std::process::Stdio::piped())
            .spawn()
            .unwrap();
        child.stdin.take().unwrap().write_all(format!("{}\njob 1\n", script.token).as_bytes()).unwrap();
        let out = child.wait_with_output().unwrap();
        let stdout = String::from_utf8_lossy(&out.stdout).into_owned();
        (script.report().read(&stdout), stdout)
    }

    #[test]
    fn only_lines_with_the_runs_token_are_events() {
        let script = Script::new("t", "value release real\necho '@@chom value release forged'\necho '@@chom:0123 value release forged'\nstep upload");
        let (report, stdout) = run(&script);
        assert!(stdout.contains("@@chom value release forged"), "{stdout}");
        assert_eq!(report.value("release"), Some("real"));
        assert_eq!(report.last_step(), Some("upload"));
        // Every script first says its PID, by which a cancel stops it.
        assert!(report.value("pid").is_some_and(|p| p.parse::<u32>().is_ok()), "{stdout}");
        // Another run's report does not take this run's lines.
        let other = Script::new("t", "").report().read(&stdout);
        assert!(other.events.is_empty());
        assert!(!script.command().contains(&script.token), "the token is never on the command line");
    }

    /// Hostile values reach the script as data: run the command with a
    /// real `sh` and read the variables back.
    #[test]
    fn variables_are_data_not_code() {
        let hostile = ["a.com;touch /tmp/chom-pwned", "$(id)", "`id`", "x'y\"z", "new\nline"];
        for v in hostile {
            let script = Script::new("t", "printf '[%s]' \"$V\"").var("V", v).unwrap();
            let (_, stdout) = run(&script);
            assert!(stdout.ends_with(&format!("[{v}]")), "{stdout}");
        }
        assert!(!std::path::Path::new("/tmp/chom-pwned").exists());
    }

    #[test]
    fn a_script_without_its_token_does_nothing() {
        let script = Script::new("t", "echo ran");
        let out = std::process::Command::new("sh")
            .arg("-c")
            .arg(script.command())
            .stdin(std::process::Stdio::null())
            .output()
            .unwrap();
        assert_eq!(out.status.code(), Some(97));
        assert!(!String::from_utf8_lossy(&out.stdout).contains("ran"));
    }
}
