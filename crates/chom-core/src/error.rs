//! One error enum per area, joined here. Every error maps to a small stable
//! `ErrorCode` (`code.rs`, a leaf the areas use) that the UI and the CLI
//! exit status share.

pub use crate::code::ErrorCode;
use crate::db::DbError;
use crate::keys::KeyError;
use crate::remedy::Remedy;
use crate::secrets::SecretError;
use crate::ssh::SshError;
use crate::validate::ValidationError;
use crate::web::WebError;

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
    /// Boxed: the parsers' errors carry file, line and value, and every
    /// `Result` of CHOM's would grow by their size.
    #[error(transparent)]
    Import(Box<crate::import::ImportError>),
    #[error("{what} {name:?} not found")]
    NotFound { what: &'static str, name: String, remedy: Remedy },
    #[error("{what} {name:?} already exists; pick another name or edit the existing one")]
    AlreadyExists { what: &'static str, name: String },
    #[error("key {key:?} is used by {servers}; move those servers to another key first")]
    KeyInUse { key: String, servers: String },
    #[error("{server} is the jump host of {behind}; give them another jump host (or none) first")]
    JumpInUse { server: String, behind: String },
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
            Error::Import(e) => e.code(),
            Error::NotFound { .. } => ErrorCode::NotFound,
            Error::AlreadyExists { .. } => ErrorCode::AlreadyExists,
            Error::KeyInUse { .. } | Error::JumpInUse { .. } | Error::Busy { .. } => ErrorCode::InUse,
            Error::ProbeOutput { .. } => ErrorCode::Protocol,
            Error::FingerprintMismatch { .. } => ErrorCode::HostKeyChanged,
            Error::LocalFile { .. } => ErrorCode::LocalFile,
            Error::Cancelled => ErrorCode::Cancelled,
            Error::Internal(_) => ErrorCode::Internal,
        }
    }

    /// What the operator can do about it, for the front end to say.
    pub fn remedy(&self) -> Option<Remedy> {
        match self {
            Error::Ssh(e) => e.remedy(),
            Error::Web(crate::web::WebError::Disabled { site }) => Some(Remedy::EnableSite { site: site.clone() }),
            Error::Web(crate::web::WebError::Placement(_)) => Some(Remedy::ProbeAll),
            Error::Web(crate::web::WebError::StepTimedOut { step, .. }) => {
                Some(Remedy::RaiseStepLimit { step: step.clone() })
            }
            Error::Db(DbError::TooNew { .. }) => Some(Remedy::OtherDataDir),
            Error::NotFound { remedy, .. } => Some(remedy.clone()),
            _ => None,
        }
    }
}

pub type Result<T, E = Error> = std::result::Result<T, E>;

impl From<crate::import::ImportError> for Error {
    fn from(e: crate::import::ImportError) -> Self {
        Error::Import(Box::new(e))
    }
}
