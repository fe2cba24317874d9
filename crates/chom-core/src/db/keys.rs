//! The `keys` table: public halves and where the private half sits in the
//! OS keyring. Never any private material.

use chrono::{DateTime, Utc};
use rusqlite::{params, OptionalExtension, Row};
use serde::Serialize;

use super::servers::is_unique_violation;
use super::{from_ms, to_ms, Db, DbResult};
use crate::ids::KeyId;
use crate::validate::KeyName;

#[derive(Debug, Clone, Serialize)]
pub struct KeyRecord {
    #[serde(skip)]
    pub id: KeyId,
    pub name: KeyName,
    pub algorithm: String,
    pub bits: u32,
    pub public_key: String,
    pub fingerprint: String,
    #[serde(skip)]
    pub keyring_account: String,
    /// The private half is the operator's ssh-agent's, not the keyring's.
    pub agent: bool,
    pub created_at: DateTime<Utc>,
}

const SELECT: &str =
    "SELECT id, name, algorithm, bits, public_key, fingerprint, keyring_account, created_at, agent FROM keys";

fn row_to_key(r: &Row<'_>) -> rusqlite::Result<KeyRecord> {
    let name: String = r.get(1)?;
    Ok(KeyRecord {
        id: r.get(0)?,
        name: KeyName::parse(&name).map_err(|e| {
            rusqlite::Error::FromSqlConversionFailure(1, rusqlite::types::Type::Text, e.to_string().into())
        })?,
        algorithm: r.get(2)?,
        bits: r.get(3)?,
        public_key: r.get(4)?,
        fingerprint: r.get(5)?,
        keyring_account: r.get(6)?,
        created_at: from_ms(r.get(7)?),
        agent: r.get(8)?,
    })
}

impl Db {
    /// Inserts a key row; `Ok(None)` when the name is taken.
    pub fn insert_key(&self, k: &KeyRecord) -> DbResult<Option<KeyRecord>> {
        self.blocking(|| {
            let inserted = self.conn().execute(
                "INSERT INTO keys (name, algorithm, bits, public_key, fingerprint, keyring_account, created_at, agent) \
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)",
                params![
                    k.name.as_str(),
                    k.algorithm,
                    k.bits,
                    k.public_key,
                    k.fingerprint,
                    k.keyring_account,
                    to_ms(k.created_at),
                    k.agent,
                ],
            );
            match inserted {
                Err(e) if is_unique_violation(&e) => Ok(None),
                Err(e) => Err(e.into()),
                Ok(_) => self.key_by_name(&k.name),
            }
        })
    }

    pub fn key_by_name(&self, name: &KeyName) -> DbResult<Option<KeyRecord>> {
        Ok(self.conn().query_row(&format!("{SELECT} WHERE name = ?1"), [name.as_str()], row_to_key).optional()?)
    }

    pub fn key_by_id(&self, id: KeyId) -> DbResult<Option<KeyRecord>> {
        Ok(self.conn().query_row(&format!("{SELECT} WHERE id = ?1"), [id], row_to_key).optional()?)
    }

    pub fn list_keys(&self) -> DbResult<Vec<KeyRecord>> {
        let conn = self.conn();
        let mut stmt = conn.prepare_cached(&format!("{SELECT} ORDER BY name"))?;
        let keys = stmt.query_map([], row_to_key)?.collect::<Result<_, _>>()?;
        Ok(keys)
    }

    pub fn delete_key(&self, id: KeyId) -> DbResult<bool> {
        self.blocking(|| Ok(self.conn().execute("DELETE FROM keys WHERE id = ?1", [id])? > 0))
    }
}
