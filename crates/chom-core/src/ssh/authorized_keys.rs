//! Installing a public key with a one-time password login, as ssh-copy-id
//! does. The password is used for this one connection and never kept.

use russh::ChannelMsg;

use super::client::{self, Auth, Route, SshConfig, Target};
use super::quote::quote;
use super::SshError;
use crate::secret::Secret;

/// Appends `public_line` to the login user's ~/.ssh/authorized_keys unless
/// it is there already (idempotent), with the modes sshd requires.
fn install_command(public_line: &str) -> Result<String, SshError> {
    let line = public_line.trim();
    let key = quote(line).map_err(|e| SshError::Rejected { detail: e.to_string() })?;
    Ok(format!(
        "umask 077 && mkdir -p \"$HOME/.ssh\" && touch \"$HOME/.ssh/authorized_keys\" && \
         {{ grep -qxF {key} \"$HOME/.ssh/authorized_keys\" || printf '%s\\n' {key} >> \"$HOME/.ssh/authorized_keys\"; }}"
    ))
}

/// Logs in with the password (after the pinned host key checked out) and
/// installs the key. Returns whether the key was newly added.
pub async fn install_with_password(
    target: &Target,
    cfg: &SshConfig,
    route: &Route,
    password: &Secret,
    public_line: &str,
) -> Result<(), SshError> {
    if public_line.contains('\n') || public_line.trim().is_empty() {
        return Err(SshError::Rejected { detail: "the public key must be one line".into() });
    }
    let command = install_command(public_line)?;
    // The login has its deadline (connect_timeout); what runs after it, its own.
    let conn = client::connect_with(target, cfg, route, Auth::Password(password)).await?;
    let lost = |e: russh::Error| SshError::Disconnected { server: target.server.clone(), detail: e.to_string() };
    let run = async {
        let mut channel = conn.channel_open_session().await.map_err(lost)?;
        channel.exec(true, command).await.map_err(lost)?;
        let (mut status, mut stderr) = (None, Vec::new());
        while let Some(msg) = channel.wait().await {
            match msg {
                ChannelMsg::ExtendedData { data, .. } if stderr.len() < 4096 => stderr.extend_from_slice(&data),
                ChannelMsg::ExitStatus { exit_status } => status = Some(exit_status),
                _ => {}
            }
        }
        Ok::<_, SshError>((status, stderr))
    };
    let timed_out = || SshError::CommandTimeout { server: target.server.clone(), timeout: cfg.command_timeout };
    let (status, stderr) = tokio::time::timeout(cfg.command_timeout, run).await.map_err(|_| timed_out())??;
    match status {
        Some(0) => Ok(()),
        other => Err(SshError::RemoteFailed {
            server: target.server.clone(),
            what: "installing the public key in ~/.ssh/authorized_keys".into(),
            status: other.map_or("no exit status".into(), |s| format!("exit status {s}")),
            stderr: String::from_utf8_lossy(&stderr).trim().chars().take(300).collect(),
        }),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The command appends once, and a real shell sees the key verbatim.
    #[test]
    fn install_command_is_idempotent_and_quoted() {
        let home = tempfile::tempdir().unwrap();
        let line = "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIB it's $(touch /tmp/pwned) `x`";
        let cmd = install_command(line).unwrap();
        for _ in 0..2 {
            let st = std::process::Command::new("sh").arg("-c").arg(&cmd).env("HOME", home.path()).status().unwrap();
            assert!(st.success());
        }
        let keys = std::fs::read_to_string(home.path().join(".ssh/authorized_keys")).unwrap();
        assert_eq!(keys, format!("{line}\n"));
        assert!(!std::path::Path::new("/tmp/pwned").exists());
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(home.path().join(".ssh")).unwrap().permissions().mode();
        assert_eq!(mode & 0o777, 0o700);
    }
}
