//! The `leases` table: which job of which CHOM process works on a site or
//! a server now. Taking one is a single transaction, so of two processes
//! starting at once exactly one gets it.

use chrono::Utc;
use rusqlite::{params, Connection, OptionalExtension};

use super::{to_ms, Db, DbResult};
use crate::ids::JobId;
use crate::process::{self, ProcessStamp};

/// How long a lease lives without a heartbeat: a process that stopped
/// beating (hung, suspended laptop) loses it after this.
pub const LEASE_TTL_MS: i64 = 30_000;

/// What `take_lease` found in the way.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Held {
    pub job_id: JobId,
    pub holder: String,
}

/// A lease as stored.
struct Stored {
    held: Held,
    owner: ProcessStamp,
    heartbeat_at: i64,
}

impl Stored {
    /// Held: its process runs and beat within the TTL.
    fn live(&self, now: i64) -> bool {
        now - self.heartbeat_at < LEASE_TTL_MS && process::alive(self.owner)
    }
}

fn stored(conn: &Connection, scope: &str) -> DbResult<Option<Stored>> {
    Ok(conn
        .query_row("SELECT job_id, holder, pid, pid_started, heartbeat_at FROM leases WHERE scope = ?1", [scope], |r| {
            Ok(Stored {
                held: Held { job_id: r.get(0)?, holder: r.get(1)? },
                owner: ProcessStamp {
                    pid: u32::try_from(r.get::<_, i64>(2)?).unwrap_or(0),
                    started: u64::try_from(r.get::<_, i64>(3)?).unwrap_or(0),
                },
                heartbeat_at: r.get(4)?,
            })
        })
        .optional()?)
}

impl Db {
    /// Takes `scope` for `job_id`, unless a live process holds it with a
    /// fresh heartbeat; a lease of a dead process or a stale one is taken
    /// over.
    pub fn take_lease(&self, scope: &str, job_id: JobId, holder: &str) -> DbResult<Result<(), Held>> {
        self.blocking(|| {
            let me = process::current();
            let now = to_ms(Utc::now());
            let mut conn = self.conn();
            let tx = super::write_tx(&mut conn)?;
            if let Some(found) = stored(&tx, scope)? {
                if found.live(now) {
                    return Ok(Err(found.held));
                }
                let held_by = found.held.job_id;
                tracing::warn!(scope, %held_by, "taking over the lease of a job whose process ended or stopped beating");
            }
            tx.execute(
                "INSERT OR REPLACE INTO leases (scope, job_id, holder, pid, pid_started, heartbeat_at) \
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
                params![scope, job_id, holder, me.pid, i64::try_from(me.started).unwrap_or(0), now],
            )?;
            tx.commit()?;
            Ok(Ok(()))
        })
    }

    /// Says the job holding `scope` is still at work.
    pub fn beat_lease(&self, scope: &str, job_id: JobId) -> DbResult<()> {
        self.blocking(|| {
            self.conn().execute(
                "UPDATE leases SET heartbeat_at = ?3 WHERE scope = ?1 AND job_id = ?2",
                params![scope, job_id, to_ms(Utc::now())],
            )?;
            Ok(())
        })
    }

    pub fn release_lease(&self, scope: &str, job_id: JobId) -> DbResult<()> {
        self.blocking(|| {
            self.conn().execute("DELETE FROM leases WHERE scope = ?1 AND job_id = ?2", params![scope, job_id])?;
            Ok(())
        })
    }

    /// Who holds `scope` now, if anyone alive does.
    pub fn lease_holder(&self, scope: &str) -> DbResult<Option<Held>> {
        let found = stored(&self.conn(), scope)?;
        Ok(found.filter(|f| f.live(to_ms(Utc::now()))).map(|f| f.held))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn one_holder_at_a_time_and_a_dead_holder_is_taken_over() {
        let dir = tempfile::tempdir().unwrap();
        let db = Db::open(&dir.path().join("c.sqlite3")).unwrap();
        assert_eq!(db.take_lease("site:a.test", JobId(1), "job 1").unwrap(), Ok(()));
        let held = db.take_lease("site:a.test", JobId(2), "job 2").unwrap().unwrap_err();
        assert_eq!(held, Held { job_id: JobId(1), holder: "job 1".into() });
        assert_eq!(db.take_lease("site:b.test", JobId(3), "job 3").unwrap(), Ok(()), "another scope is free");
        // The holder's process died (PID 0 is never a user process).
        db.conn().execute("UPDATE leases SET pid = 0 WHERE job_id = 1", []).unwrap();
        assert_eq!(db.lease_holder("site:a.test").unwrap(), None);
        assert_eq!(db.take_lease("site:a.test", JobId(4), "job 4").unwrap(), Ok(()));
        // Alive but silent for longer than the TTL: taken over too.
        db.conn().execute("UPDATE leases SET heartbeat_at = heartbeat_at - 31000 WHERE job_id = 4", []).unwrap();
        assert_eq!(db.take_lease("site:a.test", JobId(5), "job 5").unwrap(), Ok(()));
        db.release_lease("site:a.test", JobId(4)).unwrap();
        assert_eq!(
            db.lease_holder("site:a.test").unwrap().map(|h| h.job_id),
            Some(JobId(5)),
            "not the holder's to end"
        );
        db.release_lease("site:a.test", JobId(5)).unwrap();
        assert_eq!(db.lease_holder("site:a.test").unwrap(), None);
    }
}
