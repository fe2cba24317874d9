//! How results reach the operator: aligned text for people, JSON for
//! scripts, and a progress line on a terminal.

use std::io::{IsTerminal, Write};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use chom_core::jobs::{JobEvent, ProgressSink};
use chrono::{DateTime, Utc};
use serde::Serialize;

/// Text that came from a server, made safe to print on a terminal:
/// control characters (ESC, which starts every escape sequence, among
/// them), C1 controls and bidirectional overrides are shown as `\u{..}`;
/// tabs and newlines stay.
pub fn clean(text: &str) -> std::borrow::Cow<'_, str> {
    let unsafe_char = |c: char| {
        (c.is_control() && c != '\n' && c != '\t')
            || matches!(c, '\u{202a}'..='\u{202e}' | '\u{2066}'..='\u{2069}' | '\u{200e}' | '\u{200f}')
    };
    if !text.chars().any(unsafe_char) {
        return std::borrow::Cow::Borrowed(text);
    }
    text.chars()
        .map(|c| if unsafe_char(c) { format!("\\u{{{:x}}}", c as u32) } else { c.to_string() })
        .collect::<String>()
        .into()
}

pub fn json<T: Serialize>(value: &T) {
    let text = serde_json::to_string_pretty(value).expect("views serialize");
    println!("{text}");
}

/// Prints rows as left-aligned columns under a header.
pub fn table(header: &[&str], rows: &[Vec<String>]) {
    let mut widths: Vec<usize> = header.iter().map(|h| h.chars().count()).collect();
    for row in rows {
        for (w, cell) in widths.iter_mut().zip(row) {
            *w = (*w).max(cell.chars().count());
        }
    }
    let line = |cells: Vec<&str>| {
        let mut out = String::new();
        for (i, (cell, w)) in cells.iter().zip(&widths).enumerate() {
            if i + 1 == cells.len() {
                out.push_str(cell);
            } else {
                out.push_str(&format!("{cell:<w$}  "));
            }
        }
        clean(out.trim_end()).into_owned()
    };
    // One buffered write for the whole table: stdout is line-buffered, and
    // 50,000 rows were 50,000 write calls.
    let mut out = std::io::BufWriter::new(std::io::stdout().lock());
    let mut put = |text: &str| writeln!(out, "{text}");
    let written = put(&crate::paint::bold(crate::paint::Stream::Out, &line(header.to_vec())))
        .and_then(|()| rows.iter().try_for_each(|row| put(&line(row.iter().map(String::as_str).collect()))))
        .and_then(|()| out.flush());
    // A closed pipe (`chom server list | head`) ends the listing quietly.
    if let Err(e) = written {
        if e.kind() != std::io::ErrorKind::BrokenPipe {
            eprintln!("chom: writing the table: {e}");
        }
    }
}

/// "3 min ago", "never".
pub fn ago(t: Option<DateTime<Utc>>) -> String {
    let Some(t) = t else { return "never".into() };
    let s = (Utc::now() - t).num_seconds().max(0);
    match s {
        0..=59 => format!("{s} s ago"),
        60..=3599 => format!("{} min ago", s / 60),
        3600..=86_399 => format!("{} h ago", s / 3600),
        _ => format!("{} d ago", s / 86_400),
    }
}

pub fn bytes(n: u64) -> String {
    const UNITS: [&str; 5] = ["B", "KiB", "MiB", "GiB", "TiB"];
    let mut v = n as f64;
    let mut u = 0;
    while v >= 1024.0 && u + 1 < UNITS.len() {
        v /= 1024.0;
        u += 1;
    }
    if u == 0 {
        format!("{n} B")
    } else {
        format!("{v:.1} {}", UNITS[u])
    }
}

/// A progress line ("probe 37/200, 2 failed") redrawn on a terminal's
/// stderr at most ten times a second, always with the final count. With
/// `--json`, or off a terminal, nothing is drawn.
pub fn progress_sink(enabled: bool) -> ProgressSink {
    let tty = enabled && std::io::stderr().is_terminal();
    let state = Arc::new(Mutex::new((Instant::now() - Duration::from_secs(1), 0u32, String::new())));
    Arc::new(move |event| {
        let mut st = state.lock().unwrap_or_else(|p| p.into_inner());
        match event {
            JobEvent::Started { job_kind, total, .. } => st.2 = format!("{job_kind} 0/{total}"),
            JobEvent::ServerDone { ok, done, total, .. } => {
                if !ok {
                    st.1 += 1;
                }
                let failed = if st.1 > 0 { format!(", {} failed", st.1) } else { String::new() };
                let kind = st.2.split(' ').next().unwrap_or("").to_owned();
                st.2 = format!("{kind} {done}/{total}{failed}");
                if tty && (st.0.elapsed() >= Duration::from_millis(100) || done == total) {
                    st.0 = Instant::now();
                    eprint!("\r\x1b[2K{}", st.2);
                    if done == total {
                        eprintln!();
                    }
                }
            }
            JobEvent::Note { server, line } if enabled => {
                let at = server.map_or_else(String::new, |s| format!("[{s}] "));
                eprintln!("{}{at}{}", if tty { "\r\x1b[2K" } else { "" }, clean(&line));
            }
            _ => {}
        }
    })
}

/// Progress of a single-server web job on stderr: each step and what it
/// changed as a line, the upload as a redrawn bar on a terminal. With
/// `--json`, nothing.
pub fn web_progress(enabled: bool) -> ProgressSink {
    let tty = std::io::stderr().is_terminal();
    let last = Arc::new(Mutex::new(Instant::now() - Duration::from_secs(1)));
    Arc::new(move |event| {
        if !enabled {
            return;
        }
        match event {
            JobEvent::Step { server, step } => {
                eprintln!("{}[{server}] {}", if tty { "\r\x1b[2K" } else { "" }, clean(&step))
            }
            JobEvent::Transfer { sent, total, .. } if tty => {
                let mut at = last.lock().unwrap_or_else(|p| p.into_inner());
                if at.elapsed() >= Duration::from_millis(100) || sent >= total {
                    *at = Instant::now();
                    let pct = (sent * 100).checked_div(total).unwrap_or(100);
                    eprint!("\r\x1b[2K  upload {} / {} ({pct}%)", bytes(sent), bytes(total));
                }
            }
            JobEvent::Output { line, .. } => eprintln!("{}  {}", if tty { "\r\x1b[2K" } else { "" }, clean(&line)),
            JobEvent::Note { line, .. } => eprintln!("{}{}", if tty { "\r\x1b[2K" } else { "" }, clean(&line)),
            _ => {}
        }
    })
}

#[cfg(test)]
mod tests {
    #[test]
    fn escape_sequences_from_servers_are_shown_not_run() {
        assert_eq!(super::clean("plain\ttext\n"), "plain\ttext\n");
        let hostile = "\x1b]0;owned\x07\x1b[2J\u{202e}gpj.exe\r";
        let shown = super::clean(hostile);
        assert!(!shown.chars().any(|c| c.is_control() || c == '\u{202e}'), "{shown:?}");
        assert_eq!(shown, "\\u{1b}]0;owned\\u{7}\\u{1b}[2J\\u{202e}gpj.exe\\u{d}");
    }
}
