//! Installing a public key with a one-time password login, as ssh-copy-id
//! does. The password is used for this one connection and never kept.

use russh::ChannelMsg;

use super::client::{self, Auth, Route, SshConfig, Target};
use super::quote::quote;
use super::SshError;
use crate::secret::Secret;

/// Appends `public_line` to the login user's ~/.ssh/authorized_keys unless
/// it is there already (idempotent), with the modes sshd requires.
pub fn install_command(public_line: &str) -> Result<String, SshError> {
    let line = public_line.trim();
    let key = quote(line).map_err(|e| SshError::Rejected { detail: e.to_string() })?;
    Ok(format!(
        "umask 077 && mkdir -p \"$HOME/.ssh\" && touch \"$HOME/.ssh/authorized_keys\" && \
         {{ grep -qxF {key} \"$HOME/.ssh/authorized_keys\" || printf '%s\\n' {key} >> \"$HOME/.ssh/authorized_keys\"; }}"
    ))
}

/// The token line that says how many lines `remove_command` took out.
pub const REMOVED_TOKEN: &str = "chom-authorized-keys-removed";

/// Takes every line that authorizes the key `remove` (a public key line,
/// compared by its base64 blob, whatever options or comment the line has)
/// out of the login user's ~/.ssh/authorized_keys, and only if the result
/// still authorizes `keep`. The file is rewritten next to itself and
/// renamed over, so a lost connection leaves it whole; a symbolic link or
/// another non-regular file is refused rather than replaced. Prints
/// `REMOVED_TOKEN N`.
pub fn remove_command(remove: &str, keep: &str) -> Result<String, SshError> {
    let (old, new) = (blob(remove)?, blob(keep)?);
    if old == new {
        return Err(SshError::Rejected { detail: "the key to remove is the key to keep".into() });
    }
    let (old, new) = (quote(old).map_err(rejected)?, quote(new).map_err(rejected)?);
    Ok(format!(
        "set -eu; f=\"$HOME/.ssh/authorized_keys\"; \
         if [ -L \"$f\" ] || [ ! -f \"$f\" ]; then echo \"$f is not a regular file: change it by hand\" >&2; exit 3; fi; \
         t=$(mktemp \"$HOME/.ssh/.authorized_keys.chom.XXXXXX\"); trap 'rm -f \"$t\"' EXIT; \
         n=$(awk -v k={old} 'BEGIN {{ n = 0 }} {{ for (i = 1; i <= NF; i++) if ($i == k) {{ n++; next }} }} END {{ print n }}' \"$f\"); \
         awk -v k={old} '{{ for (i = 1; i <= NF; i++) if ($i == k) next; print }}' \"$f\" > \"$t\"; \
         if ! awk -v k={new} '{{ for (i = 1; i <= NF; i++) if ($i == k) f = 1 }} END {{ exit !f }}' \"$t\"; then \
         echo \"the key to keep is not in $f: nothing removed\" >&2; exit 4; fi; \
         chmod 600 \"$t\"; mv -f \"$t\" \"$f\"; trap - EXIT; printf '{REMOVED_TOKEN} %s\\n' \"$n\""
    ))
}

/// What `for_deploy_user` printed.
pub const DEPLOY_TOKEN: &str = "chom-deploy-user";

/// Runs `inner` (one of this module's commands) as the `deploy` user that
/// `server setup` made, in its own home, when that user exists and its
/// authorized_keys holds `only_if` (a public key line): root (directly, or
/// through passwordless sudo) starts it with `runuser`, so nothing of that
/// user's is read or written as root. Prints `DEPLOY_TOKEN done`, or
/// `DEPLOY_TOKEN skipped REASON` (no such user, the key not there, no way
/// to become root here).
pub fn for_deploy_user(user: &str, inner: &str, only_if: &str) -> Result<String, SshError> {
    let key = quote(blob(only_if)?).map_err(rejected)?;
    let as_user = format!(
        "f=\"$HOME/.ssh/authorized_keys\"; \
         if [ -f \"$f\" ] && grep -qF -- {key} \"$f\"; then {inner} && echo {DEPLOY_TOKEN} done; \
         else echo {DEPLOY_TOKEN} skipped no-key; fi"
    );
    let user = quote(user).map_err(rejected)?;
    let as_root = format!(
        "if ! id -u {user} >/dev/null 2>&1; then echo {DEPLOY_TOKEN} skipped no-user; exit 0; fi; \
         home=$(getent passwd {user} | cut -d: -f6); \
         exec runuser -u {user} -- env -i PATH=/usr/bin:/bin HOME=\"$home\" sh -c \"$1\""
    );
    let (as_root, as_user) = (quote(&as_root).map_err(rejected)?, quote(&as_user).map_err(rejected)?);
    Ok(format!(
        "if [ \"$(id -u)\" = 0 ]; then sh -c {as_root} chom-deploy-keys {as_user}; \
         elif sudo -n true 2>/dev/null; then sudo -n sh -c {as_root} chom-deploy-keys {as_user}; \
         else echo {DEPLOY_TOKEN} skipped no-root; fi"
    ))
}

/// The base64 blob of an OpenSSH public key line.
fn blob(line: &str) -> Result<&str, SshError> {
    line.split_whitespace()
        .nth(1)
        .filter(|b| b.len() >= 16 && b.bytes().all(|c| c.is_ascii_alphanumeric() || b"+/=".contains(&c)))
        .ok_or_else(|| SshError::Rejected { detail: "not an OpenSSH public key line".into() })
}

fn rejected(e: impl std::fmt::Display) -> SshError {
    SshError::Rejected { detail: e.to_string() }
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

    const OLD: &str = "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIOldOldOldOldOldOldOldOldOldOldOldOldOldOld";
    const NEW: &str = "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAINewNewNewNewNewNewNewNewNewNewNewNewNewNew";

    fn remove_in(home: &std::path::Path, keys: &str) -> (std::process::Output, String) {
        let ssh = home.join(".ssh");
        std::fs::create_dir_all(&ssh).unwrap();
        std::fs::write(ssh.join("authorized_keys"), keys).unwrap();
        let cmd = remove_command(OLD, NEW).unwrap();
        let out = std::process::Command::new("sh").arg("-c").arg(&cmd).env("HOME", home).output().unwrap();
        (out, std::fs::read_to_string(ssh.join("authorized_keys")).unwrap_or_default())
    }

    /// Every line of the old key goes (with options, another comment, no
    /// newline at the end), everything else stays byte for byte, and the
    /// count comes back on the token line.
    #[test]
    fn remove_takes_out_only_the_old_key() {
        let home = tempfile::tempdir().unwrap();
        let old_blob = OLD.split(' ').nth(1).unwrap();
        let keys = format!(
            "# admin keys\n{OLD} me@laptop\nfrom=\"10.0.0.0/8\",no-pty {OLD} other\n{NEW} chom:new\n\
             ssh-rsa AAAAB3NzaC1yc2EAAAADAQABAAABAQ keep{old_blob}\n{OLD}"
        );
        let (out, after) = remove_in(home.path(), &keys);
        assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
        assert_eq!(String::from_utf8_lossy(&out.stdout), format!("{REMOVED_TOKEN} 3\n"));
        assert_eq!(
            after,
            format!("# admin keys\n{NEW} chom:new\nssh-rsa AAAAB3NzaC1yc2EAAAADAQABAAABAQ keep{old_blob}\n")
        );
        let leftovers: Vec<_> = std::fs::read_dir(home.path().join(".ssh")).unwrap().collect();
        assert_eq!(leftovers.len(), 1, "no temporary file is left");
    }

    /// The deploy user's step runs as that user (started by root here: the
    /// tests run as root) and skips a user that does not exist or whose
    /// authorized_keys does not hold the key.
    #[test]
    fn the_deploy_users_step_runs_as_that_user_and_skips_what_is_not_there() {
        let run = |user: &str, inner: &str| {
            let cmd = for_deploy_user(user, inner, OLD).unwrap();
            let out = std::process::Command::new("sh").arg("-c").arg(&cmd).output().unwrap();
            assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
            String::from_utf8_lossy(&out.stdout).into_owned()
        };
        assert_eq!(run("chom-no-such-user", "true"), format!("{DEPLOY_TOKEN} skipped no-user\n"));
        let root = std::process::Command::new("id").arg("-u").output().unwrap();
        if String::from_utf8_lossy(&root.stdout).trim() == "0" {
            // nobody's home (/nonexistent) has no authorized_keys.
            assert_eq!(run("nobody", "touch /tmp/chom-never"), format!("{DEPLOY_TOKEN} skipped no-key\n"));
            assert!(!std::path::Path::new("/tmp/chom-never").exists());
        }
        assert!(for_deploy_user("deploy", "true", "not a key").is_err());
    }

    /// Without the new key in the file, nothing is removed; a link is
    /// refused, not followed or replaced.
    #[test]
    fn remove_refuses_without_the_new_key_or_on_a_link() {
        let home = tempfile::tempdir().unwrap();
        let keys = format!("{OLD} me\n");
        let (out, after) = remove_in(home.path(), &keys);
        assert_eq!(out.status.code(), Some(4));
        assert_eq!(after, keys);

        let elsewhere = home.path().join("elsewhere");
        std::fs::write(&elsewhere, format!("{OLD} me\n{NEW} new\n")).unwrap();
        let ak = home.path().join(".ssh/authorized_keys");
        std::fs::remove_file(&ak).unwrap();
        std::os::unix::fs::symlink(&elsewhere, &ak).unwrap();
        let cmd = remove_command(OLD, NEW).unwrap();
        let out = std::process::Command::new("sh").arg("-c").arg(&cmd).env("HOME", home.path()).output().unwrap();
        assert_eq!(out.status.code(), Some(3));
        assert_eq!(std::fs::read_to_string(&elsewhere).unwrap(), format!("{OLD} me\n{NEW} new\n"));
        assert!(remove_command(OLD, OLD).is_err());
        assert!(remove_command("ssh-ed25519 AAAA'$(reboot)'AAAAAAAAAAAAAA", NEW).is_err());
    }
}
