//! The local SQLite cache: the inventory and everything learned about it, so
//! the operator can review the fleet offline. One connection behind a mutex;
//! every call is short and local, and no lock is held across an `.await`.

mod audit;
mod backups;
mod breakers;
mod host_keys;
mod import;
mod job_log;
mod jobs;
mod keys;
mod leases;
mod migrate;
mod probes;
mod rotations;
mod schedules;
mod server_rows;
mod servers;
mod sites;

pub use audit::{AuditEntry, AuditFilter, NewAudit};
pub use backups::{BackupMade, BackupRecord, BackupState, Drill};
pub use host_keys::{PinnedHostKey, RevokedHostKey};
pub use import::ImportWrite;
pub use job_log::{LogLine, LogWriter, NewLogLine};
pub use jobs::{JobRecord, JobResultRecord, JobState};
pub use keys::KeyRecord;
pub use leases::{Held, LEASE_TTL_MS};
pub use migrate::LATEST_VERSION;
pub(crate) use probes::used_pct;
pub use probes::{NewProbe, ProbeFacts, ProbeRecord, ServiceState};
pub use rotations::{RotationRow, RotationState};
pub use schedules::{ScheduleRecord, ScheduledRun};
pub use server_rows::ServerRow;
pub use servers::{ListedServer, NewServer, ServerFilter, ServerPatch, ServerRecord, ServerStatus};
pub use sites::{DeployRecord, DeployState, NewSite, SiteRecord};

use std::path::{Path, PathBuf};
use std::sync::{Mutex, MutexGuard};
use std::time::Duration;

use chrono::{DateTime, TimeZone, Utc};
use rusqlite::{Connection, Transaction, TransactionBehavior};

use crate::code::ErrorCode;

#[derive(Debug, thiserror::Error)]
pub enum DbError {
    #[error("cannot open the CHOM database {path}: {source}; check the path and its permissions")]
    Open {
        path: PathBuf,
        #[source]
        source: rusqlite::Error,
    },
    #[error(
        "the CHOM database {path} was written by a newer CHOM (schema version {found}, this build knows up to {supported}); \
         it was left untouched: upgrade CHOM or use another data directory"
    )]
    TooNew { path: PathBuf, found: i64, supported: i64 },
    #[error("upgrading the CHOM database {path} failed: {source}; the database was left at its previous version")]
    Migrate {
        path: PathBuf,
        #[source]
        source: rusqlite_migration::Error,
    },
    #[error("database query failed: {0}")]
    Sqlite(#[from] rusqlite::Error),
    #[error("stored data is corrupt: {0}")]
    Corrupt(String),
}

impl DbError {
    pub fn code(&self) -> ErrorCode {
        ErrorCode::Database
    }
}

pub type DbResult<T> = Result<T, DbError>;

/// The cache. Cheap to share behind an `Arc`.
pub struct Db {
    conn: Mutex<Connection>,
    path: PathBuf,
}

impl Db {
    pub const FILE_NAME: &'static str = "chom.sqlite3";

    /// Opens (creating if needed) and migrates the database at `path`. A file
    /// written by a newer CHOM is refused before anything is written to it.
    pub fn open(path: &Path) -> DbResult<Db> {
        let open_err = |source| DbError::Open { path: path.to_owned(), source };
        let mut conn = Connection::open(path).map_err(open_err)?;
        migrate::refuse_newer(&conn, path)?;
        conn.busy_timeout(Duration::from_secs(5)).map_err(open_err)?;
        conn.pragma_update(None, "journal_mode", "WAL").map_err(open_err)?;
        conn.pragma_update(None, "synchronous", "NORMAL").map_err(open_err)?;
        conn.pragma_update(None, "foreign_keys", "ON").map_err(open_err)?;
        migrate::to_latest(&mut conn, path)?;
        Ok(Db { conn: Mutex::new(conn), path: path.to_owned() })
    }

    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Runs a write: on an async runtime's worker thread as a blocking
    /// section (`block_in_place` hands the worker's other tasks to another
    /// thread first), so a write that waits (for the lock, for another
    /// process's transaction, for the disk) stalls no probe or transfer
    /// queued behind it. Elsewhere (a blocking thread, the CLI's own, a
    /// test's single-threaded runtime) it just runs.
    fn blocking<T>(&self, write: impl FnOnce() -> T) -> T {
        match tokio::runtime::Handle::try_current() {
            Ok(h) if h.runtime_flavor() == tokio::runtime::RuntimeFlavor::MultiThread => {
                tokio::task::block_in_place(write)
            }
            _ => write(),
        }
    }

    /// The connection, for the typed handles in this module.
    fn conn(&self) -> MutexGuard<'_, Connection> {
        // A panic while holding the lock leaves SQLite itself consistent
        // (statements are atomic), so a poisoned lock is safe to reuse.
        self.conn.lock().unwrap_or_else(|p| p.into_inner())
    }
}

/// Begins a write transaction, taking the write lock first. A deferred
/// transaction that reads and then writes fails with "database is locked"
/// at once (the busy timeout does not apply) when another connection (the
/// job journal's thread, a second CHOM process) committed in between: its
/// snapshot is stale and SQLite cannot upgrade it. Every read-then-write
/// goes through here.
pub(crate) fn write_tx(conn: &mut Connection) -> rusqlite::Result<Transaction<'_>> {
    conn.transaction_with_behavior(TransactionBehavior::Immediate)
}

pub(crate) fn to_ms(t: DateTime<Utc>) -> i64 {
    t.timestamp_millis()
}

pub(crate) fn from_ms(ms: i64) -> DateTime<Utc> {
    Utc.timestamp_millis_opt(ms).single().unwrap_or_default()
}

/// A fresh database at `path` with one server ("web", id 1) and one static
/// site on it (a.example.test), for the tables' own tests.
#[cfg(test)]
pub(crate) fn test_site(path: &Path) -> (Db, crate::ids::SiteId) {
    let db = Db::open(path).unwrap();
    db.conn()
        .execute(
            "INSERT INTO servers (name, host, port, user, created_at, updated_at) VALUES ('web', 'h', 22, 'root', 0, 0)",
            [],
        )
        .unwrap();
    let domain = crate::validate::DomainName::parse("a.example.test").unwrap();
    let site = db
        .insert_site(&NewSite {
            server_id: crate::ids::ServerId(1),
            domain: &domain,
            kind: crate::web::SiteKind::Static,
            php_version: None,
            aliases: &[],
            site_user: "w_a",
        })
        .unwrap();
    (db, site)
}
