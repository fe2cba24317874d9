//! Web hosting on a server: setup, sites, releases, certificates. Each
//! operation is one shell script run over the server's pooled SSH
//! connection; every value in it is validated and shell-quoted here, and
//! the script reports progress as `@@chom:TOKEN <event> <text>` lines
//! (`script.rs`). The scripts themselves are in `assets/remote/`.

pub mod assets;
pub mod bundle;
pub mod config;
pub mod layout;
pub mod manifest;
pub mod placement;
pub mod script;
pub mod steps;
pub mod vhost;

pub use layout::{SiteKind, SiteLayout};
pub use script::{RemoteEvent, Script};

use crate::code::ErrorCode;

/// What went wrong on a server while changing it. Each message says what
/// was left in place.
#[derive(Debug, Clone, thiserror::Error)]
pub enum WebError {
    #[error("{what} failed on {server}: {detail}")]
    Remote { server: String, what: String, detail: String },
    #[error(
        "another deploy of {site} is running on {server} (its lock is held by {holder}); nothing was changed. \
         Wait for it to finish, then deploy again"
    )]
    Locked { site: String, server: String, holder: String },
    #[error(
        "release {release} of {site} failed its health check ({detail}); it was not switched live, \
         release {serving} keeps serving"
    )]
    HealthCheck { site: String, release: String, serving: String, detail: String },
    #[error("release {release} of {site} failed at step {step} and never went live ({serving}): {detail}")]
    NotLive { site: String, release: String, step: String, serving: String, detail: String },
    #[error(
        "release {release} of {site} passed its health check but failed it once live ({detail}); \
         it was switched back at once, release {serving} serves"
    )]
    LiveCheck { site: String, release: String, serving: String, detail: String },
    #[error(
        "{site} is disabled, so a new release cannot be checked through nginx before it goes live; \
         enable it first"
    )]
    Disabled { site: String },
    #[error("step {step} of {what} on {server} ran past its limit of {limit:?}; CHOM stopped the script there")]
    StepTimedOut { server: String, what: String, step: String, limit: std::time::Duration },
    /// A path CHOM would act on was found changed into something it must
    /// not trust; the script stopped there.
    #[error("{what} stopped on {server}: site tampered: {path} {detail}")]
    Tampered { server: String, what: String, path: String, detail: String },
    #[error("{0}")]
    Placement(String),
    /// Stopped by the operator; says what serves now.
    #[error("{0}")]
    Cancelled(String),
}

impl WebError {
    pub fn code(&self) -> ErrorCode {
        match self {
            WebError::Locked { .. } => ErrorCode::InUse,
            WebError::Cancelled(_) => ErrorCode::Cancelled,
            WebError::Placement(_) | WebError::Disabled { .. } => ErrorCode::InvalidInput,
            WebError::StepTimedOut { .. } => ErrorCode::Timeout,
            _ => ErrorCode::RemoteFailed,
        }
    }
}
