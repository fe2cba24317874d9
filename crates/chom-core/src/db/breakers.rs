//! The `server_breakers` table: each server's circuit breaker.

use chrono::Utc;
use rusqlite::{params, OptionalExtension};

use super::{from_ms, to_ms, Db, DbResult};
use crate::ids::ServerId;
use crate::ssh::breaker::BreakerState;

impl Db {
    pub fn breaker(&self, server_id: ServerId) -> DbResult<BreakerState> {
        let row = self
            .conn()
            .query_row("SELECT failures, open_until FROM server_breakers WHERE server_id = ?1", [server_id], |r| {
                Ok((r.get::<_, i64>(0)?, r.get::<_, Option<i64>>(1)?))
            })
            .optional()?;
        Ok(row.map_or_else(BreakerState::default, |(failures, until)| BreakerState {
            failures: u32::try_from(failures).unwrap_or(u32::MAX),
            open_until: until.map(from_ms),
        }))
    }

    /// Stores a breaker; a closed one with no failures leaves no row.
    pub fn set_breaker(&self, server_id: ServerId, state: BreakerState, last_error: &str) -> DbResult<()> {
        self.blocking(|| {
            let conn = self.conn();
            if state == BreakerState::default() {
                conn.execute("DELETE FROM server_breakers WHERE server_id = ?1", [server_id])?;
            } else {
                conn.execute(
                    "INSERT INTO server_breakers (server_id, failures, open_until, last_error, updated_at)
                     VALUES (?1, ?2, ?3, ?4, ?5)
                     ON CONFLICT (server_id) DO UPDATE SET failures = ?2, open_until = ?3, last_error = ?4, updated_at = ?5",
                    params![server_id, state.failures, state.open_until.map(to_ms), last_error, to_ms(Utc::now())],
                )?;
            }
            Ok(())
        })
    }

    /// Every stored breaker, by server id (for views of the whole fleet).
    pub fn breakers(&self) -> DbResult<std::collections::HashMap<ServerId, BreakerState>> {
        let conn = self.conn();
        let mut stmt = conn.prepare("SELECT server_id, failures, open_until FROM server_breakers")?;
        let rows = stmt.query_map([], |r| {
            Ok((
                r.get::<_, ServerId>(0)?,
                BreakerState {
                    failures: u32::try_from(r.get::<_, i64>(1)?).unwrap_or(u32::MAX),
                    open_until: r.get::<_, Option<i64>>(2)?.map(from_ms),
                },
            ))
        })?;
        Ok(rows.collect::<Result<_, _>>()?)
    }
}
