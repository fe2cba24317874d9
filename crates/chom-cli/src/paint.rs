//! Colour on a terminal, never in a pipe: `--color auto` (the default)
//! colours a stream only when it is a terminal, `NO_COLOR` is not set
//! (https://no-color.org) and TERM is not "dumb"; `always` and `never`
//! decide outright. Only words CHOM itself prints are coloured: text from
//! a server goes through `output::clean` and is never painted.

use std::io::IsTerminal;
use std::sync::OnceLock;

#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum ColorChoice {
    Auto,
    Always,
    Never,
}

struct Decided {
    stdout: bool,
    stderr: bool,
}

static DECIDED: OnceLock<Decided> = OnceLock::new();

/// Decides once, at start, for both streams.
pub fn init(choice: ColorChoice) {
    let no_color = std::env::var_os("NO_COLOR");
    let term = std::env::var("TERM").ok();
    let decide = |terminal| decide(choice, terminal, no_color.as_deref(), term.as_deref());
    let _ = DECIDED.set(Decided {
        stdout: decide(std::io::stdout().is_terminal()),
        stderr: decide(std::io::stderr().is_terminal()),
    });
}

fn decide(choice: ColorChoice, terminal: bool, no_color: Option<&std::ffi::OsStr>, term: Option<&str>) -> bool {
    match choice {
        ColorChoice::Always => true,
        ColorChoice::Never => false,
        ColorChoice::Auto => terminal && no_color.is_none_or(|v| v.is_empty()) && term != Some("dumb"),
    }
}

#[derive(Clone, Copy)]
pub enum Stream {
    Out,
    Err,
}

fn on(stream: Stream) -> bool {
    DECIDED.get().is_some_and(|d| match stream {
        Stream::Out => d.stdout,
        Stream::Err => d.stderr,
    })
}

fn paint(stream: Stream, code: &str, text: &str) -> String {
    if on(stream) {
        format!("\x1b[{code}m{text}\x1b[0m")
    } else {
        text.to_owned()
    }
}

/// Something that worked.
pub fn good(stream: Stream, text: &str) -> String {
    paint(stream, "32", text)
}

/// Something that failed.
pub fn bad(stream: Stream, text: &str) -> String {
    paint(stream, "31", text)
}

/// Something to look at (pending, a warning).
pub fn warn(stream: Stream, text: &str) -> String {
    paint(stream, "33", text)
}

/// A table's header.
pub fn bold(stream: Stream, text: &str) -> String {
    paint(stream, "1", text)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::ffi::OsStr;

    /// A pipe never gets colour unless asked; NO_COLOR (set and not
    /// empty) and TERM=dumb turn it off on a terminal; the flag wins.
    #[test]
    fn colour_only_on_a_terminal_that_wants_it() {
        use ColorChoice::*;
        assert!(decide(Auto, true, None, Some("xterm")));
        assert!(!decide(Auto, false, None, Some("xterm")));
        assert!(!decide(Auto, true, Some(OsStr::new("1")), Some("xterm")));
        assert!(decide(Auto, true, Some(OsStr::new("")), Some("xterm")), "an empty NO_COLOR is not set");
        assert!(!decide(Auto, true, None, Some("dumb")));
        assert!(decide(Always, false, Some(OsStr::new("1")), Some("dumb")));
        assert!(!decide(Never, true, None, None));
    }
}
