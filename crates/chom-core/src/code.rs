//! The stable error codes, in a module of their own that every area's
//! error uses (no area imports `error.rs`, which joins them all).

use serde::Serialize;

/// Stable codes: the UI keys its messages on them, the CLI maps them to exit
/// statuses. Add one only when a consumer uses it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
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
