//! The `host_keys` table (one pinned host key per server) and the
//! `revoked_host_keys` table (keys refused for good).

use crate::ids::ServerId;
use chrono::{DateTime, Utc};
use rusqlite::{params, Connection, OptionalExtension};
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
            pin_in(&tx, server_id, key)?;
            tx.commit()?;
            Ok(())
        })
    }

    /// Fingerprints of the host keys refused for good on `server_id`.
    pub fn revoked_host_keys(&self, server_id: ServerId) -> DbResult<Vec<RevokedHostKey>> {
        let conn = self.conn();
        let mut stmt = conn.prepare_cached(
            "SELECT fingerprint, public_key, source FROM revoked_host_keys WHERE server_id = ?1 ORDER BY fingerprint",
        )?;
        let rows = stmt.query_map([server_id], |r| {
            Ok(RevokedHostKey { fingerprint: r.get(0)?, public_key: r.get(1)?, source: r.get(2)? })
        })?;
        Ok(rows.collect::<Result<_, _>>()?)
    }
}

/// A host key refused for good on a server (a known_hosts `@revoked` line).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
pub struct RevokedHostKey {
    pub fingerprint: String,
    pub public_key: String,
    /// Where it was revoked ("known_hosts line 4").
    pub source: String,
}

/// Pins `key` for `server_id` inside transaction `tx`.
pub(super) fn pin_in(tx: &Connection, server_id: ServerId, key: &PinnedHostKey) -> rusqlite::Result<()> {
    tx.execute(
        "INSERT INTO host_keys (server_id, algorithm, fingerprint, public_key, first_seen) VALUES (?1, ?2, ?3, ?4, ?5) \
         ON CONFLICT (server_id) DO UPDATE SET algorithm = ?2, fingerprint = ?3, public_key = ?4, first_seen = ?5",
        params![server_id, key.algorithm, key.fingerprint, key.public_key, to_ms(key.first_seen)],
    )?;
    tx.execute("UPDATE servers SET status = 'unknown' WHERE id = ?1 AND status = 'host_key_changed'", [server_id])?;
    Ok(())
}

/// Refuses `key` on `server_id` for good, inside transaction `tx`; a pin of
/// that very key goes with it.
pub(super) fn revoke_in(tx: &Connection, server_id: ServerId, key: &RevokedHostKey) -> rusqlite::Result<()> {
    tx.execute(
        "INSERT OR IGNORE INTO revoked_host_keys (server_id, fingerprint, public_key, source, added_at) \
         VALUES (?1, ?2, ?3, ?4, ?5)",
        params![server_id, key.fingerprint, key.public_key, key.source, to_ms(Utc::now())],
    )?;
    tx.execute("DELETE FROM host_keys WHERE server_id = ?1 AND fingerprint = ?2", params![server_id, key.fingerprint])?;
    Ok(())
}
