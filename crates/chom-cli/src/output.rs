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
    // Printable ASCII (nearly every cell of a table) needs no look at chars.
    let printable = |b: &u8| (0x20..0x7f).contains(b) || *b == b'\n' || *b == b'\t';
    if text.as_bytes().iter().all(printable) || !text.chars().any(unsafe_char) {
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
    // One buffered write for the whole table: stdout is line-buffered, and
    // 50,000 rows were 50,000 write calls.
    let mut out = std::io::BufWriter::with_capacity(1 << 16, std::io::stdout().lock());
    let head = |h: &str| crate::paint::bold(crate::paint::Stream::Out, h);
    let written = write_table(&mut out, header, rows, head).and_then(|()| out.flush());
    // A closed pipe (`chom server list | head`) ends the listing quietly.
    if let Err(e) = written {
        if e.kind() != std::io::ErrorKind::BrokenPipe {
            eprintln!("chom: writing the table: {e}");
        }
    }
}

fn write_table(
    out: &mut impl Write,
    header: &[&str],
    rows: &[Vec<String>],
    head: impl Fn(&str) -> String,
) -> std::io::Result<()> {
    // Tables run to 50,000 rows: widths by bytes where the text is ASCII,
    // and each line built in one reused buffer. A cell is measured as it
    // is shown (escaped).
    let width = |s: &str| {
        let s = clean(s);
        if s.is_ascii() {
            s.len()
        } else {
            s.chars().count()
        }
    };
    let mut widths: Vec<usize> = header.iter().map(|h| width(h)).collect();
    for row in rows {
        for (w, cell) in widths.iter_mut().zip(row) {
            *w = (*w).max(width(cell));
        }
    }
    let fill = |buf: &mut String, cells: &mut dyn Iterator<Item = &str>| {
        buf.clear();
        for (i, (cell, w)) in cells.zip(&widths).enumerate() {
            if i > 0 {
                buf.push_str("  ");
            }
            buf.push_str(&clean(cell));
            if i + 1 < widths.len() {
                buf.extend(std::iter::repeat_n(' ', w.saturating_sub(width(cell))));
            }
        }
    };
    let mut buf = String::new();
    fill(&mut buf, &mut header.iter().copied());
    writeln!(out, "{}", head(buf.trim_end()))?;
    rows.iter().try_for_each(|row| {
        fill(&mut buf, &mut row.iter().map(String::as_str));
        writeln!(out, "{}", buf.trim_end())
    })
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
    /// Columns line up by characters (not bytes), lines carry no trailing
    /// blanks, and what a server sent is shown, not run.
    #[test]
    fn tables_align_by_characters_and_escape_what_they_show() {
        let rows =
            [vec!["é-host".to_owned(), "up".into(), String::new()], vec!["b".into(), "\x1b[2Jx".into(), "1".into()]];
        let mut out = Vec::new();
        super::write_table(&mut out, &["NAME", "STATUS", "LOAD"], &rows, |h| h.to_owned()).unwrap();
        let text = String::from_utf8(out).unwrap();
        assert_eq!(text, "NAME    STATUS      LOAD\né-host  up\nb       \\u{1b}[2Jx  1\n");
    }

    #[test]
    fn escape_sequences_from_servers_are_shown_not_run() {
        assert_eq!(super::clean("plain\ttext\n"), "plain\ttext\n");
        let hostile = "\x1b]0;owned\x07\x1b[2J\u{202e}gpj.exe\r";
        let shown = super::clean(hostile);
        assert!(!shown.chars().any(|c| c.is_control() || c == '\u{202e}'), "{shown:?}");
        assert_eq!(shown, "\\u{1b}]0;owned\\u{7}\\u{1b}[2J\\u{202e}gpj.exe\\u{d}");
    }
}
