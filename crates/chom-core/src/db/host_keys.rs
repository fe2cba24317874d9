//! The `host_keys` table: one pinned host key per server.

use crate::ids::ServerId;
use chrono::{DateTime, Utc};
use rusqlite::{params, OptionalExtension};
use serde::Serialize;

use super::{from_ms, to_ms, Db, DbResult};

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
pub struct PinnedHostKey {
    pub algorithm: String,
    pub fingerprint: String,
    /// OpenSSH line of the host key ("ssh-ed25519 AAAA...").
    pub public_key: String,
    pub first_seen: DateTime<Utc>,
}

impl Db {
    pub fn pinned_host_key(&self, server_id: ServerId) -> DbResult<Option<PinnedHostKey>> {
        Ok(self
            .conn()
            .query_row(
                "SELECT algorithm, fingerprint, public_key, first_seen FROM host_keys WHERE server_id = ?1",
                [server_id],
                |r| {
                    Ok(PinnedHostKey {
                        algorithm: r.get(0)?,
                        fingerprint: r.get(1)?,
                        public_key: r.get(2)?,
                        first_seen: from_ms(r.get(3)?),
                    })
                },
            )
            .optional()?)
    }

    /// Pins (or re-pins, after the operator accepted a new key) a host key and
    /// clears a "host key changed" status.
    pub fn pin_host_key(&self, server_id: ServerId, key: &PinnedHostKey) -> DbResult<()> {
        self.blocking(|| {
            let mut conn = self.conn();
            let tx = super::write_tx(&mut conn)?;
            tx.execute(
                "INSERT INTO host_keys (server_id, algorithm, fingerprint, public_key, first_seen) VALUES (?1, ?2, ?3, ?4, ?5) \
                 ON CONFLICT (server_id) DO UPDATE SET algorithm = ?2, fingerprint = ?3, public_key = ?4, first_seen = ?5",
                params![server_id, key.algorithm, key.fingerprint, key.public_key, to_ms(key.first_seen)],
            )?;
            tx.execute("UPDATE servers SET status = 'unknown' WHERE id = ?1 AND status = 'host_key_changed'", [server_id])?;
            tx.commit()?;
            Ok(())
        })
    }
}
