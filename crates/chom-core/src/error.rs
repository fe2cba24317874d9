//! One error enum per area, joined here. Every error maps to a small stable
//! `ErrorCode` that the UI and the CLI exit status share.

use serde::Serialize;

use crate::db::DbError;
use crate::keys::KeyError;
use crate::secrets::SecretError;
use crate::ssh::SshError;
use crate::validate::ValidationError;
use crate::web::WebError;

/// Stable codes: the UI keys its messages on them, the CLI maps them to exit
/// statuses. Add one only when a consumer uses it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum ErrorCode {
    InvalidInput,
    NotFound,
    AlreadyExists,
    InUse,
    HostKeyUnknown,
    HostKeyChanged,
    AuthFailed,
    Unreachable,
    Timeout,
    Protocol,
    Keyring,
    Database,
    RemoteFailed,
    /// A file on this computer could not be read or written.
    LocalFile,
    Cancelled,
    Internal,
}

impl ErrorCode {
    pub fn as_str(self) -> &'static str {
        match self {
            ErrorCode::InvalidInput => "invalid_input",
            ErrorCode::NotFound => "not_found",
            ErrorCode::AlreadyExists => "already_exists",
            ErrorCode::InUse => "in_use",
            ErrorCode::HostKeyUnknown => "host_key_unknown",
            ErrorCode::HostKeyChanged => "host_key_changed",
            ErrorCode::AuthFailed => "auth_failed",
            ErrorCode::Unreachable => "unreachable",
            ErrorCode::Timeout => "timeout",
            ErrorCode::Protocol => "protocol",
            ErrorCode::Keyring => "keyring",
            ErrorCode::Database => "database",
            ErrorCode::RemoteFailed => "remote_failed",
            ErrorCode::LocalFile => "local_file",
            ErrorCode::Cancelled => "cancelled",
            ErrorCode::Internal => "internal",
        }
    }

    /// Exit status of the `chom` CLI for this error (1 is "some servers failed").
    pub fn exit_status(self) -> i32 {
        match self {
            ErrorCode::InvalidInput => 2,
            ErrorCode::NotFound => 3,
            ErrorCode::AlreadyExists | ErrorCode::InUse => 4,
            ErrorCode::HostKeyUnknown | ErrorCode::HostKeyChanged => 5,
            ErrorCode::AuthFailed => 6,
            ErrorCode::Unreachable | ErrorCode::Timeout | ErrorCode::Protocol => 7,
            ErrorCode::Keyring => 8,
            ErrorCode::Database => 9,
            ErrorCode::RemoteFailed => 10,
            ErrorCode::LocalFile => 11,
            ErrorCode::Cancelled => 130,
            ErrorCode::Internal => 70,
        }
    }
}

#[derive(Debug, thiserror::Error)]
pub enum Error {
    #[error(transparent)]
    Invalid(#[from] ValidationError),
    #[error(transparent)]
    Db(#[from] DbError),
    #[error(transparent)]
    Key(#[from] KeyError),
    #[error(transparent)]
    Secret(#[from] SecretError),
    #[error(transparent)]
    Ssh(#[from] SshError),
    #[error(transparent)]
    Web(#[from] WebError),
    #[error("{what} {name:?} not found{hint}")]
    NotFound { what: &'static str, name: String, hint: &'static str },
    #[error("{what} {name:?} already exists; pick another name or edit the existing one")]
    AlreadyExists { what: &'static str, name: String },
    #[error("key {key:?} is used by {servers}; move those servers to another key first")]
    KeyInUse { key: String, servers: String },
    #[error("{0}")]
    Usage(String),
    #[error("{server} offers host key {offered}, not the {accepted} you accepted; nothing was pinned")]
    FingerprintMismatch { server: String, offered: String, accepted: String },
    #[error("{server} answered the probe with output CHOM does not understand: {detail}")]
    ProbeOutput { server: String, detail: String },
    #[error("{what} is busy: {holder} is working on it; wait for it to finish, or cancel it there")]
    Busy { what: String, holder: String },
    #[error("{what} {path} failed: {detail}")]
    LocalFile { path: std::path::PathBuf, what: String, detail: String },
    #[error("cancelled")]
    Cancelled,
    #[error("internal error: {0}; please report it")]
    Internal(String),
}

impl Error {
    pub fn code(&self) -> ErrorCode {
        match self {
            Error::Invalid(_) | Error::Usage(_) => ErrorCode::InvalidInput,
            Error::Db(e) => e.code(),
            Error::Key(e) => e.code(),
            Error::Secret(_) => ErrorCode::Keyring,
            Error::Ssh(e) => e.code(),
            Error::Web(e) => e.code(),
            Error::NotFound { .. } => ErrorCode::NotFound,
            Error::AlreadyExists { .. } => ErrorCode::AlreadyExists,
            Error::KeyInUse { .. } | Error::Busy { .. } => ErrorCode::InUse,
            Error::ProbeOutput { .. } => ErrorCode::Protocol,
            Error::FingerprintMismatch { .. } => ErrorCode::HostKeyChanged,
            Error::LocalFile { .. } => ErrorCode::LocalFile,
            Error::Cancelled => ErrorCode::Cancelled,
            Error::Internal(_) => ErrorCode::Internal,
        }
    }
}

pub type Result<T, E = Error> = std::result::Result<T, E>;
