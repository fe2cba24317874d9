//! A long-lived shell on a pooled connection, for the probe: a warm probe
//! then costs the server no new session, no fork of a shell, only the work
//! of the script itself. On a large fleet the servers' CPU is the limit.

use russh::client::Msg;
use russh::{Channel, ChannelMsg};

use super::client::Connection;
use super::exec::ExecFailure;

pub(super) struct Shell {
    channel: Channel<Msg>,
}

impl Shell {
    /// `exec sh` replaces the login shell with a plain POSIX shell reading
    /// commands from the channel.
    pub(super) async fn open(conn: &Connection) -> Result<Shell, ExecFailure> {
        let channel = conn.channel_open_session().await.map_err(ExecFailure::ChannelOpen)?;
        channel.exec(true, "exec sh").await.map_err(|e| ExecFailure::Broken(e.to_string()))?;
        Ok(Shell { channel })
    }

    /// Runs `script` and returns its stdout, read up to a marker no script
    /// output can forge (a fresh random token each time). Stderr is dropped.
    pub(super) async fn run(&mut self, script: &str, max_output: usize) -> Result<String, ExecFailure> {
        let token = format!("@@chom-done-{:016x}", rand::random::<u64>());
        let input = format!("{script}\nprintf '\\n%s\\n' '{token}'\n");
        self.channel.data(input.as_bytes()).await.map_err(|e| ExecFailure::Broken(e.to_string()))?;
        let end = format!("\n{token}\n");
        let mut out: Vec<u8> = Vec::new();
        loop {
            match self.channel.wait().await {
                Some(ChannelMsg::Data { data }) => {
                    out.extend_from_slice(&data);
                    if out.ends_with(end.as_bytes()) {
                        out.truncate(out.len() - end.len());
                        return Ok(String::from_utf8_lossy(&out).into_owned());
                    }
                    if out.len() > max_output {
                        return Err(ExecFailure::Broken("the shell printed more than the output limit".into()));
                    }
                }
                Some(
                    ChannelMsg::ExitStatus { .. } | ChannelMsg::ExitSignal { .. } | ChannelMsg::Eof | ChannelMsg::Close,
                )
                | None => return Err(ExecFailure::Broken("the shell ended".into())),
                Some(_) => {}
            }
        }
    }
}
