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
    let env_allows = std::env::var_os("NO_COLOR").is_none_or(|v| v.is_empty())
        && std::env::var("TERM").map_or(true, |t| t != "dumb");
    let decide = |terminal: bool| match choice {
        ColorChoice::Always => true,
        ColorChoice::Never => false,
        ColorChoice::Auto => terminal && env_allows,
    };
    let _ = DECIDED.set(Decided {
        stdout: decide(std::io::stdout().is_terminal()),
        stderr: decide(std::io::stderr().is_terminal()),
    });
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
