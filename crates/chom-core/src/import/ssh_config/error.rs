use std::path::PathBuf;
use std::time::Duration;

use crate::code::ErrorCode;

#[derive(Debug, thiserror::Error)]
pub enum SshConfigError {
    #[error("cannot read the SSH config {path}: {source}; check that it exists and is readable")]
    Read {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error(
        "{file}:{line}: Include of {path} nests more than {max} files deep; OpenSSH refuses this too, \
         flatten the Include chain"
    )]
    IncludeTooDeep { file: PathBuf, line: u32, path: PathBuf, max: usize },
    #[error("{file}:{line}: Include of {path} loops back ({chain}); OpenSSH refuses this, remove one of those Include lines")]
    IncludeLoop { file: PathBuf, line: u32, path: PathBuf, chain: String },
    #[error(
        "{alias}: {directive} {value:?} at {file}:{line} uses the token %{token}, which OpenSSH does not \
         accept in {directive}; remove it or write the value out"
    )]
    UnknownToken { alias: String, directive: &'static str, value: String, file: PathBuf, line: u32, token: char },
    #[error(
        "{alias}: {directive} {value:?} at {file}:{line} uses the token %{token}, which CHOM cannot expand; \
         write the value out in the config"
    )]
    UnsupportedToken { alias: String, directive: &'static str, value: String, file: PathBuf, line: u32, token: char },
    #[error("{alias}: {directive} {value:?} at {file}:{line} cannot be expanded: {detail}")]
    BadValue { alias: String, directive: &'static str, value: String, file: PathBuf, line: u32, detail: String },
    #[error("host alias {alias:?} is refused: {reason}")]
    BadAlias { alias: String, reason: &'static str },
    #[error(
        "{path} uses Match exec, so CHOM does not ask `ssh -G` about it (ssh would run those commands); \
         compare by hand or remove the Match exec blocks"
    )]
    MatchExecRefused { path: PathBuf },
    #[error("could not run `ssh -G`: {source}")]
    Spawn {
        #[source]
        source: std::io::Error,
    },
    #[error("`ssh -G` for {alias} did not finish within {timeout:?}; it was stopped")]
    OpensshTimeout { alias: String, timeout: Duration },
    #[error("OpenSSH refuses {path} for {alias}: {stderr}")]
    OpensshRefused { path: PathBuf, alias: String, stderr: String },
    #[error("`ssh -G` printed output CHOM does not understand: {detail}")]
    OpensshOutput { detail: String },
}

impl SshConfigError {
    pub fn code(&self) -> ErrorCode {
        match self {
            SshConfigError::Read { .. } | SshConfigError::Spawn { .. } => ErrorCode::LocalFile,
            SshConfigError::OpensshTimeout { .. } => ErrorCode::Timeout,
            SshConfigError::OpensshOutput { .. } => ErrorCode::Protocol,
            SshConfigError::IncludeTooDeep { .. }
            | SshConfigError::IncludeLoop { .. }
            | SshConfigError::UnknownToken { .. }
            | SshConfigError::UnsupportedToken { .. }
            | SshConfigError::BadValue { .. }
            | SshConfigError::BadAlias { .. }
            | SshConfigError::MatchExecRefused { .. }
            | SshConfigError::OpensshRefused { .. } => ErrorCode::InvalidInput,
        }
    }
}
