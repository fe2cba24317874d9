//! SSH: a russh client that checks every host key against the pinned one
//! before authenticating, a pool of one reusable connection per server,
//! bounded command execution, and the one quoting function.

pub mod agent;
mod authorized_keys;
pub mod breaker;
mod client;
mod exec;
mod pacer;
mod pool;
pub mod quote;
mod shell;

pub use authorized_keys::{
    for_deploy_user, install_command, install_with_password, remove_command, DEPLOY_TOKEN, REMOVED_TOKEN,
};
pub use client::{Credential, HostKeyOffer, Route, SshConfig, Target};
pub use exec::{ExecLimits, ExecOutput, Input, OutputLine, OutputSink, Stream};
pub use pool::Pool;

use std::time::Duration;

use crate::code::ErrorCode;
use crate::remedy::Remedy;

/// What failed on the way to, or on, a server. Messages name the server and
/// say what to do.
#[derive(Debug, Clone, thiserror::Error)]
pub enum SshError {
    #[error(
        "host key of {server} is not trusted yet (it offers {algorithm} {offered}); \
         verify the fingerprint with the provider, then trust the key"
    )]
    HostKeyUnknown { server: String, algorithm: String, offered: String },
    #[error(
        "HOST KEY CHANGED for {server}: pinned {pinned}, now offered {offered}. Refusing to connect; nothing was \
         sent or run. This can be a reinstall or an attack: verify the new key with the provider, then accept \
         it by its fingerprint"
    )]
    HostKeyChanged { server: String, pinned: String, offered: String },
    #[error(
        "{server} offers host key {offered}, which a known_hosts file marked @revoked for it. Refusing to connect; \
         nothing was sent or run. CHOM never accepts a revoked key: have the server's host key replaced"
    )]
    HostKeyRevoked { server: String, offered: String },
    #[error("cannot resolve {host} for {server}: {detail}")]
    Resolve { server: String, host: String, detail: String },
    #[error("{server} ({addr}) refused the connection: is sshd running and listening on that port?")]
    Refused { server: String, addr: String },
    #[error("cannot reach {server} ({addr}): {detail}")]
    Unreachable { server: String, addr: String, detail: String },
    #[error(
        "connecting to {server} ({addr}) timed out after {timeout:?}: the host or a firewall is not answering SSH"
    )]
    ConnectTimeout { server: String, addr: String, timeout: Duration },
    #[error("{server} ({addr}) did not speak SSH correctly: {detail}; check that this port runs an SSH server")]
    Protocol { server: String, addr: String, detail: String },
    #[error(
        "{server} refused key {key} for user {user}: install the key's public half in \
         ~{user}/.ssh/authorized_keys on the server, or pick another key"
    )]
    AuthFailed { server: String, user: String, key: String },
    #[error(
        "{server} refused the password for {user}; nothing was changed. Check the password, or install the \
         key another way (the provider's console)"
    )]
    PasswordRejected { server: String, user: String },
    #[error("{server} has no key set: give it one")]
    NoKey { server: String },
    #[error("ssh-agent: {detail}")]
    Agent { detail: String },
    #[error("{what} failed on {server} ({status}): {stderr}")]
    RemoteFailed { server: String, what: String, status: String, stderr: String },
    #[error("refused before connecting: {detail}")]
    Rejected { detail: String },
    #[error("command on {server} timed out after {timeout:?}; it may still be running there")]
    CommandTimeout { server: String, timeout: Duration },
    #[error("connection to {server} was lost: {detail}")]
    Disconnected { server: String, detail: String },
    #[error("storing what {server} sent failed: {detail}; check the free space and permissions where it goes")]
    LocalWrite { server: String, detail: String },
    #[error(
        "{server} is paused after {failures} failed connection attempts in a row; CHOM tries it again after \
         {until}, or at once when it is resumed"
    )]
    Paused { server: String, failures: u32, until: chrono::DateTime<chrono::Utc> },
}

impl SshError {
    pub fn remedy(&self) -> Option<Remedy> {
        Some(match self.clone() {
            SshError::HostKeyUnknown { server, .. } => Remedy::TrustHostKey { server, accept: None },
            SshError::HostKeyChanged { server, offered, .. } => Remedy::TrustHostKey { server, accept: Some(offered) },
            SshError::AuthFailed { key, user, .. } => Remedy::InstallPublicKey { key, user },
            SshError::NoKey { server } => Remedy::SetServerKey { server },
            SshError::Paused { server, .. } => Remedy::ResumeServer { server },
            _ => return None,
        })
    }
}

impl SshError {
    pub fn code(&self) -> ErrorCode {
        match self {
            SshError::HostKeyUnknown { .. } => ErrorCode::HostKeyUnknown,
            SshError::HostKeyChanged { .. } | SshError::HostKeyRevoked { .. } => ErrorCode::HostKeyChanged,
            SshError::Resolve { .. } | SshError::Refused { .. } | SshError::Unreachable { .. } => {
                ErrorCode::Unreachable
            }
            SshError::Disconnected { .. } | SshError::Paused { .. } => ErrorCode::Unreachable,
            SshError::ConnectTimeout { .. } | SshError::CommandTimeout { .. } => ErrorCode::Timeout,
            SshError::Protocol { .. } => ErrorCode::Protocol,
            SshError::AuthFailed { .. }
            | SshError::NoKey { .. }
            | SshError::PasswordRejected { .. }
            | SshError::Agent { .. } => ErrorCode::AuthFailed,
            SshError::RemoteFailed { .. } => ErrorCode::Protocol,
            SshError::Rejected { .. } => ErrorCode::InvalidInput,
            SshError::LocalWrite { .. } => ErrorCode::LocalFile,
        }
    }

    /// Whether trying again later can help (drives retries and backoff).
    pub fn is_retryable(&self) -> bool {
        matches!(
            self,
            SshError::Refused { .. }
                | SshError::Unreachable { .. }
                | SshError::ConnectTimeout { .. }
                | SshError::Disconnected { .. }
        )
    }
}
