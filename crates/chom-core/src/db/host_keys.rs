//! The `host_keys` table (the pinned host key of each server),
//! `host_keys_more` (more keys pinned beside it) and the
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
                row_to_pin,
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

    /// The keys pinned beside the main one, oldest first.
    pub fn more_host_keys(&self, server_id: ServerId) -> DbResult<Vec<PinnedHostKey>> {
        let conn = self.conn();
        let mut stmt = conn.prepare_cached(
            "SELECT algorithm, fingerprint, public_key, first_seen FROM host_keys_more WHERE server_id = ?1 \
             ORDER BY first_seen, fingerprint",
        )?;
        let rows = stmt.query_map([server_id], row_to_pin)?;
        Ok(rows.collect::<Result<_, _>>()?)
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

/// (algorithm, fingerprint, public_key, first_seen), as both pin tables hold them.
fn row_to_pin(r: &rusqlite::Row<'_>) -> rusqlite::Result<PinnedHostKey> {
    Ok(PinnedHostKey {
        algorithm: r.get(0)?,
        fingerprint: r.get(1)?,
        public_key: r.get(2)?,
        first_seen: from_ms(r.get(3)?),
    })
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

/// Pins `key` for `server_id` inside transaction `tx`. A new main key (the
/// server was re-keyed and the operator accepted it) drops the keys pinned
/// beside the old one.
pub(super) fn pin_in(tx: &Connection, server_id: ServerId, key: &PinnedHostKey) -> rusqlite::Result<()> {
    tx.execute(
        "DELETE FROM host_keys_more WHERE server_id = ?1 AND NOT EXISTS \
         (SELECT 1 FROM host_keys WHERE server_id = ?1 AND fingerprint = ?2)",
        params![server_id, key.fingerprint],
    )?;
    tx.execute(
        "DELETE FROM host_keys_more WHERE server_id = ?1 AND fingerprint = ?2",
        params![server_id, key.fingerprint],
    )?;
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
    tx.execute(
        "DELETE FROM host_keys_more WHERE server_id = ?1 AND fingerprint = ?2",
        params![server_id, key.fingerprint],
    )?;
    Ok(())
}

/// Pins `key` beside `server_id`'s main key, inside transaction `tx`
/// (nothing when it is the main key already).
pub(super) fn pin_more_in(tx: &Connection, server_id: ServerId, key: &PinnedHostKey) -> rusqlite::Result<()> {
    tx.execute(
        "INSERT OR IGNORE INTO host_keys_more (server_id, algorithm, fingerprint, public_key, first_seen) \
         SELECT ?1, ?2, ?3, ?4, ?5 WHERE NOT EXISTS (SELECT 1 FROM host_keys WHERE server_id = ?1 AND fingerprint = ?3)",
        params![server_id, key.algorithm, key.fingerprint, key.public_key, to_ms(key.first_seen)],
    )?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn key(fp: &str) -> PinnedHostKey {
        PinnedHostKey {
            algorithm: "ssh-ed25519".into(),
            fingerprint: fp.into(),
            public_key: format!("ssh-ed25519 {fp}"),
            first_seen: Utc::now(),
        }
    }

    fn more(db: &Db) -> Vec<String> {
        db.more_host_keys(ServerId(1)).unwrap().into_iter().map(|k| k.fingerprint).collect()
    }

    /// Keys pinned beside the main one stay while the main key does, and go
    /// with a new main key, a revocation of theirs, or a new endpoint.
    #[test]
    fn keys_pinned_beside_the_main_one_follow_it() {
        let dir = tempfile::tempdir().unwrap();
        let (db, _) = crate::db::test_site(&dir.path().join("c.sqlite3"));
        let web = ServerId(1);
        let with_tx = |f: &dyn Fn(&Connection)| {
            let mut conn = db.conn();
            let tx = crate::db::write_tx(&mut conn).unwrap();
            f(&tx);
            tx.commit().unwrap();
        };
        with_tx(&|tx| {
            pin_in(tx, web, &key("main")).unwrap();
            pin_more_in(tx, web, &key("b")).unwrap();
            pin_more_in(tx, web, &key("c")).unwrap();
            pin_more_in(tx, web, &key("main")).unwrap();
        });
        assert_eq!(more(&db), ["b", "c"], "the main key is not pinned twice");
        db.pin_host_key(web, &key("main")).unwrap();
        assert_eq!(more(&db), ["b", "c"], "re-pinning the same main key keeps them");
        let revoked =
            RevokedHostKey { fingerprint: "b".into(), public_key: "ssh-ed25519 b".into(), source: "t".into() };
        with_tx(&|tx| revoke_in(tx, web, &revoked).unwrap());
        assert_eq!(more(&db), ["c"]);
        db.pin_host_key(web, &key("new")).unwrap();
        assert!(more(&db).is_empty(), "a new main key drops the old one's companions");
        with_tx(&|tx| pin_more_in(tx, web, &key("d")).unwrap());
        let patch =
            crate::db::ServerPatch { port: Some(crate::validate::Port::parse("2222").unwrap()), ..Default::default() };
        db.update_server(web, &patch).unwrap();
        assert!(more(&db).is_empty() && db.pinned_host_key(web).unwrap().is_none(), "another endpoint, no pins");
    }
}
