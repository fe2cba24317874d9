//! The `key_rotations` journal: how far each server got in replacing one
//! login key with another.

use chrono::{DateTime, Utc};
use rusqlite::{params, Row};
use serde::Serialize;

use super::{from_ms, to_ms, write_tx, Db, DbResult};
use crate::ids::{JobId, KeyId, ServerId};

/// A server's step in a rotation; each one is reached only after the one
/// before it held.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
#[serde(rename_all = "snake_case")]
pub enum RotationState {
    /// Nothing done yet, or the new key could not be added.
    Pending,
    /// The new key's line is in the server's authorized_keys.
    Added,
    /// A fresh login with the new key alone worked and CHOM logs in with it.
    Switched,
    /// The old key's line is gone and the old key no longer logs in.
    Done,
}

impl RotationState {
    pub fn as_str(self) -> &'static str {
        match self {
            RotationState::Pending => "pending",
            RotationState::Added => "added",
            RotationState::Switched => "switched",
            RotationState::Done => "done",
        }
    }

    fn parse(s: &str) -> RotationState {
        match s {
            "added" => RotationState::Added,
            "switched" => RotationState::Switched,
            "done" => RotationState::Done,
            _ => RotationState::Pending,
        }
    }
}

#[derive(Debug, Clone, Serialize)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
pub struct RotationRow {
    #[serde(skip)]
    pub server_id: ServerId,
    pub server: String,
    pub old_key: String,
    pub new_key: String,
    pub state: RotationState,
    pub detail: String,
    pub job_id: Option<JobId>,
    pub updated_at: DateTime<Utc>,
}

const SELECT: &str = "SELECT r.server_id, s.name, o.name, n.name, r.state, r.detail, r.job_id, r.updated_at \
     FROM key_rotations r JOIN servers s ON s.id = r.server_id \
     JOIN keys o ON o.id = r.old_key_id JOIN keys n ON n.id = r.new_key_id";

fn row_to_rotation(r: &Row<'_>) -> rusqlite::Result<RotationRow> {
    Ok(RotationRow {
        server_id: r.get(0)?,
        server: r.get(1)?,
        old_key: r.get(2)?,
        new_key: r.get(3)?,
        state: RotationState::parse(&r.get::<_, String>(4)?),
        detail: r.get(5)?,
        job_id: r.get(6)?,
        updated_at: from_ms(r.get(7)?),
    })
}

impl Db {
    /// The journal of rotating `old` to `new`, by server name.
    pub fn rotation(&self, old: KeyId, new: KeyId) -> DbResult<Vec<RotationRow>> {
        let conn = self.conn();
        let mut stmt =
            conn.prepare_cached(&format!("{SELECT} WHERE r.old_key_id = ?1 AND r.new_key_id = ?2 ORDER BY s.name"))?;
        let rows = stmt.query_map([old, new], row_to_rotation)?.collect::<Result<_, _>>()?;
        Ok(rows)
    }

    /// Every journal row that names `key`, old or new, newest first.
    pub fn rotations_of_key(&self, key: KeyId) -> DbResult<Vec<RotationRow>> {
        let conn = self.conn();
        let mut stmt = conn.prepare_cached(&format!(
            "{SELECT} WHERE r.old_key_id = ?1 OR r.new_key_id = ?1 ORDER BY r.updated_at DESC, s.name"
        ))?;
        let rows = stmt.query_map([key], row_to_rotation)?.collect::<Result<_, _>>()?;
        Ok(rows)
    }

    /// Records where a server's rotation stands (inserting its row).
    pub fn set_rotation(
        &self,
        server: ServerId,
        old: KeyId,
        new: KeyId,
        state: RotationState,
        detail: &str,
        job: JobId,
    ) -> DbResult<()> {
        self.blocking(|| {
            upsert(&self.conn(), server, old, new, state, detail, job)?;
            Ok(())
        })
    }

    /// Switches the server's login key from `old` to `new` and records it,
    /// in one transaction; false (and nothing written) when the server no
    /// longer logs in with `old` (the operator changed it meanwhile).
    pub fn switch_rotated_key(
        &self,
        server: ServerId,
        old: KeyId,
        new: KeyId,
        detail: &str,
        job: JobId,
    ) -> DbResult<bool> {
        self.blocking(|| {
            let mut conn = self.conn();
            let tx = write_tx(&mut conn)?;
            let now = to_ms(Utc::now());
            let switched = tx.execute(
                "UPDATE servers SET key_id = ?3, updated_at = ?4 WHERE id = ?1 AND key_id = ?2",
                params![server, old, new, now],
            )?;
            if switched == 0 {
                return Ok(false);
            }
            upsert(&tx, server, old, new, RotationState::Switched, detail, job)?;
            tx.commit()?;
            Ok(true)
        })
    }
}

fn upsert(
    conn: &rusqlite::Connection,
    server: ServerId,
    old: KeyId,
    new: KeyId,
    state: RotationState,
    detail: &str,
    job: JobId,
) -> rusqlite::Result<usize> {
    conn.execute(
        "INSERT INTO key_rotations (server_id, old_key_id, new_key_id, state, detail, job_id, updated_at) \
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7) \
         ON CONFLICT (server_id, old_key_id, new_key_id) DO UPDATE SET \
         state = excluded.state, detail = excluded.detail, job_id = excluded.job_id, updated_at = excluded.updated_at",
        params![server, old, new, state.as_str(), detail, job, to_ms(Utc::now())],
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::db::KeyRecord;
    use crate::validate::KeyName;

    fn key(db: &Db, name: &str) -> KeyId {
        let record = KeyRecord {
            id: KeyId(0),
            name: KeyName::parse(name).unwrap(),
            algorithm: "ssh-ed25519".into(),
            bits: 256,
            public_key: format!("ssh-ed25519 AAAA{name}"),
            fingerprint: format!("SHA256:{name}"),
            keyring_account: format!("agent:{name}"),
            agent: true,
            created_at: Utc::now(),
        };
        db.insert_key(&record).unwrap().unwrap().id
    }

    /// The switch moves the server's key and the journal together, and
    /// only from the old key: a server the operator re-keyed meanwhile is
    /// left alone.
    #[test]
    fn the_switch_is_one_transaction_and_only_from_the_old_key() {
        let dir = tempfile::tempdir().unwrap();
        let (db, _) = crate::db::test_site(&dir.path().join("c.sqlite3"));
        let (old, new, other) = (key(&db, "old"), key(&db, "new"), key(&db, "other"));
        let web = ServerId(1);
        let job = db.insert_job("key.rotate", "", "op", 1, None).unwrap();
        db.conn().execute("UPDATE servers SET key_id = ?1 WHERE id = 1", [old]).unwrap();
        db.set_rotation(web, old, new, RotationState::Added, "added", job).unwrap();
        assert!(db.switch_rotated_key(web, old, new, "proven", job).unwrap());
        assert_eq!(db.servers_using_key(new).unwrap(), vec!["web".to_owned()]);
        let rows = db.rotation(old, new).unwrap();
        assert_eq!((rows.len(), rows[0].state, rows[0].detail.as_str()), (1, RotationState::Switched, "proven"));

        db.conn().execute("UPDATE servers SET key_id = ?1 WHERE id = 1", [other]).unwrap();
        db.set_rotation(web, old, new, RotationState::Added, "again", job).unwrap();
        assert!(!db.switch_rotated_key(web, old, new, "proven", job).unwrap());
        assert_eq!(db.servers_using_key(other).unwrap(), vec!["web".to_owned()]);
        assert_eq!(db.rotation(old, new).unwrap()[0].state, RotationState::Added);
        assert_eq!(db.rotations_of_key(new).unwrap().len(), 1);
    }
}
