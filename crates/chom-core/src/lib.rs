//! CHOM core: everything the app and the `chom` CLI do, with no UI in sight.
//!
//! Areas: `db` (SQLite cache), `keys` + `secrets` (SSH keys, private halves only
//! in the OS keyring), `ssh` (russh client, host-key trust, connection pool,
//! quoting), `fleet` (probe, ad-hoc commands), `jobs` and `audit`.

mod chom;
pub mod code;
pub mod db;
pub mod error;
pub mod fleet;
pub mod ids;
pub mod import;
pub mod jobs;
pub mod keys;
pub mod paths;
pub mod process;
pub mod remedy;
pub mod secret;
pub mod secrets;
pub mod ssh;
pub mod validate;
pub mod web;

pub use chom::*;
pub use db::{DeployRecord, DeployState, ServerFilter, ServerRow, SiteRecord};
pub use error::{Error, ErrorCode, Result};
pub use ids::{BackupId, DeployId, JobId, KeyId, ServerId, SiteId};
pub use remedy::{Listing, Remedy};
pub use secret::Secret;
pub use web::SiteKind;
