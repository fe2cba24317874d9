//! Running one command on an open connection: bounded output, exit status or
//! signal, optional line streaming.

use std::sync::Arc;
use std::time::{Duration, Instant};

use russh::client::Msg;
use russh::{Channel, ChannelMsg, ChannelWriteHalf, Sig};
use serde::Serialize;
use tokio_util::task::TaskTracker;

use super::client::Connection;

#[derive(Debug, Clone, Copy)]
pub struct ExecLimits {
    /// Bytes kept per stream; the rest is counted and dropped.
    pub max_output: usize,
    /// Lines streamed per stream (to a job's log, a script's report); the
    /// rest are counted, not streamed: a server that prints without end
    /// costs the desktop nothing more.
    pub max_lines: usize,
}

impl Default for ExecLimits {
    fn default() -> Self {
        ExecLimits { max_output: 1 << 20, max_lines: 100_000 }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
#[serde(rename_all = "lowercase")]
pub enum Stream {
    Stdout,
    Stderr,
}

impl Stream {
    pub fn as_str(self) -> &'static str {
        match self {
            Stream::Stdout => "stdout",
            Stream::Stderr => "stderr",
        }
    }
}

/// One complete line of output, for progress sinks.
#[derive(Debug, Clone, Serialize)]
pub struct OutputLine {
    pub stream: Stream,
    pub line: String,
}

#[derive(Debug, Clone, Serialize)]
pub struct ExecOutput {
    /// `None` when the command died of a signal or the server sent no status.
    pub exit_status: Option<u32>,
    pub signal: Option<String>,
    pub stdout: String,
    pub stderr: String,
    pub duration: Duration,
}

impl ExecOutput {
    pub fn success(&self) -> bool {
        self.exit_status == Some(0)
    }
}

/// Collects one stream up to a bound and cuts it into lines for streaming.
struct Capture {
    kept: Vec<u8>,
    dropped: usize,
    partial: Vec<u8>,
    limit: usize,
    lines: usize,
    max_lines: usize,
}

impl Capture {
    fn new(limits: ExecLimits) -> Self {
        let (limit, max_lines) = (limits.max_output, limits.max_lines);
        Capture { kept: Vec::new(), dropped: 0, partial: Vec::new(), limit, lines: 0, max_lines }
    }

    fn line(&mut self, stream: Stream, on_line: &mut (dyn FnMut(OutputLine) + Send)) {
        self.lines += 1;
        if self.lines <= self.max_lines {
            on_line(OutputLine { stream, line: String::from_utf8_lossy(&self.partial).into_owned() });
        }
        self.partial.clear();
    }

    fn push(&mut self, data: &[u8], stream: Stream, on_line: &mut (dyn FnMut(OutputLine) + Send)) {
        let room = self.limit.saturating_sub(self.kept.len());
        let take = room.min(data.len());
        self.kept.extend_from_slice(&data[..take]);
        self.dropped += data.len() - take;
        // Stream lines, but never buffer an endless line without a newline.
        for &b in data {
            if b == b'\n' {
                self.line(stream, on_line);
            } else if self.partial.len() < 64 * 1024 {
                self.partial.push(b);
            }
        }
    }

    fn finish(mut self, stream: Stream, on_line: &mut (dyn FnMut(OutputLine) + Send)) -> String {
        if !self.partial.is_empty() {
            self.line(stream, on_line);
        }
        if self.lines > self.max_lines {
            let line = format!("[chom: {} more lines not shown]", self.lines - self.max_lines);
            on_line(OutputLine { stream, line });
        }
        let mut text = String::from_utf8_lossy(&self.kept).into_owned();
        if self.dropped > 0 {
            text.push_str(&format!("\n[chom: output truncated, {} more bytes not kept]\n", self.dropped));
        }
        text
    }
}

/// Why running a command on an open connection failed.
#[derive(Debug)]
pub(super) enum ExecFailure {
    /// The channel could not be opened: the connection is dead (reconnect).
    ChannelOpen(russh::Error),
    /// The connection broke while the command ran.
    Broken(String),
    /// The command outlived its deadline.
    TimedOut,
    /// Where its output went refused it (a local disk full).
    Sink(std::io::Error),
}

/// Stops the command when its future is dropped before it ended (cancelled,
/// timed out): SIGTERM to its process group through sshd's `signal`
/// request, then the channel closed. Without it the channel stays open on
/// the pooled connection and the command runs on; a close alone reaches
/// only a command that reads its stdin or writes. The stop runs as a task
/// of `stops`, so `Pool::finish_stops` can wait until sshd has it.
struct StopOnDrop<'a> {
    writer: Option<Arc<ChannelWriteHalf<Msg>>>,
    conn: &'a Arc<Connection>,
    stops: &'a TaskTracker,
}

impl Drop for StopOnDrop<'_> {
    fn drop(&mut self) {
        let Some(writer) = self.writer.take() else { return };
        if tokio::runtime::Handle::try_current().is_err() {
            return;
        }
        let conn = Arc::clone(self.conn);
        self.stops.spawn(async move {
            let _ = writer.signal(Sig::TERM).await;
            let _ = writer.close().await;
            // A round trip on the same connection: sshd handles messages in
            // order, so once it answers it has the signal and the close.
            if let Ok(channel) = conn.channel_open_session().await {
                let _ = channel.close().await;
            }
        });
    }
}

/// Bytes streamed to a command's stdin; `None` sends EOF at once.
pub type Input = Box<dyn tokio::io::AsyncRead + Send + Unpin>;

/// Where a command's stdout goes as raw bytes instead of being kept (a
/// download): each chunk as it arrives. An error stops the command.
pub type OutputSink<'a> = &'a mut (dyn FnMut(&[u8]) -> std::io::Result<()> + Send);

/// Runs `command` on `channel` (of `conn`), streaming `input` to its stdin
/// while reading its output until the channel closes (output can follow the
/// exit status), and returns what it printed. Dropped before the end, it
/// stops the command as a task of `stops`.
pub(super) async fn exec(
    (conn, channel): (&Arc<Connection>, Channel<Msg>),
    command: &str,
    input: Option<Input>,
    limits: ExecLimits,
    on_line: &mut (dyn FnMut(OutputLine) + Send),
    mut stdout_to: Option<OutputSink<'_>>,
    stops: &TaskTracker,
) -> Result<ExecOutput, ExecFailure> {
    let started = Instant::now();
    channel.exec(true, command).await.map_err(|e| ExecFailure::Broken(e.to_string()))?;
    let (mut reader, writer) = channel.split();
    let writer = Arc::new(writer);
    let mut guard = StopOnDrop { writer: Some(Arc::clone(&writer)), conn, stops };
    // Writing and reading run together: a command that answers while it
    // reads (a progress line per file) would otherwise fill the window.
    let send = async move {
        if let Some(input) = input {
            // Reads of 64 KiB: `data()` copies 8 KiB at a time, one SSH
            // packet each; bigger writes fill packets to the peer's maximum.
            let mut input = tokio::io::BufReader::with_capacity(64 * 1024, input);
            let mut tx = Box::pin(writer.make_writer());
            tokio::io::copy_buf(&mut input, &mut tx).await.map_err(|e| e.to_string())?;
        }
        writer.eof().await.map_err(|e| e.to_string())
    };
    let receive = async {
        let (mut out, mut err) = (Capture::new(limits), Capture::new(limits));
        let (mut exit_status, mut signal, mut closed, mut sink_failed) = (None, None, false, None);
        while let Some(msg) = reader.wait().await {
            match msg {
                ChannelMsg::Data { data } => match stdout_to.as_mut() {
                    Some(sink) => {
                        if let Err(e) = sink(&data) {
                            sink_failed = Some(e);
                            break;
                        }
                    }
                    None => out.push(&data, Stream::Stdout, on_line),
                },
                ChannelMsg::ExtendedData { data, ext: 1 } => err.push(&data, Stream::Stderr, on_line),
                ChannelMsg::ExitStatus { exit_status: s } => exit_status = Some(s),
                ChannelMsg::ExitSignal { signal_name, .. } => signal = Some(format!("{signal_name:?}")),
                ChannelMsg::Close => {
                    closed = true;
                    break;
                }
                _ => {}
            }
        }
        (out, err, exit_status, signal, closed, sink_failed)
    };
    // The reading decides when the command is over: a connection that died
    // while the peer's window was full never wakes the writer (russh waits
    // for a window adjust that cannot come), so the writing is dropped with
    // the channel instead of being awaited.
    let (sent, (out, err, exit_status, signal, closed, sink_failed)) = {
        tokio::pin!(send, receive);
        let mut sent = None;
        loop {
            tokio::select! {
                s = &mut send, if sent.is_none() => sent = Some(s),
                r = &mut receive => break (sent.unwrap_or_else(|| Err("the channel ended first".into())), r),
            }
        }
    };
    if let Some(e) = sink_failed {
        // The guard stops the command: nothing more is read.
        return Err(ExecFailure::Sink(e));
    }
    guard.writer = None;
    // The channel ending without Close or status means the connection died.
    if !closed && exit_status.is_none() && signal.is_none() {
        return Err(ExecFailure::Broken("the connection closed while the command ran".into()));
    }
    // A command may exit before reading all its input (it failed early):
    // its status says what happened, not the unsent bytes.
    if let Err(e) = sent {
        tracing::debug!(error = %e, "stdin not fully sent; the command ended first");
    }
    Ok(ExecOutput {
        exit_status,
        signal,
        stdout: out.finish(Stream::Stdout, on_line),
        stderr: err.finish(Stream::Stderr, on_line),
        duration: started.elapsed(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn capture_bounds_output_and_marks_truncation() {
        let mut lines = Vec::new();
        let mut c = Capture::new(ExecLimits { max_output: 10, max_lines: 2 });
        c.push(b"0123456789abc\nlast\none\ntwo\nthree", Stream::Stdout, &mut |l| lines.push(l.line));
        let text = c.finish(Stream::Stdout, &mut |l| lines.push(l.line));
        assert!(text.starts_with("0123456789\n[chom: output truncated, 22 more bytes"), "{text}");
        assert_eq!(lines, ["0123456789abc", "last", "[chom: 3 more lines not shown]"]);
    }
}
