//! The `audit` table: who did what, when, on which server, with what result.

use chrono::{DateTime, Utc};
use rusqlite::params;
use serde::Serialize;

use super::{from_ms, to_ms, Db, DbResult};

#[derive(Debug, Clone, Serialize)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
pub struct AuditEntry {
    #[cfg_attr(feature = "specta", specta(type = u32))]
    pub id: i64,
    pub at: DateTime<Utc>,
    pub os_user: String,
    pub action: String,
    pub server: Option<String>,
    pub target: Option<String>,
    pub result: String,
    pub detail: String,
}

/// A row to write. `detail` must never carry a secret.
#[derive(Debug, Clone)]
pub struct NewAudit<'a> {
    pub action: &'a str,
    pub server: Option<&'a str>,
    pub target: Option<&'a str>,
    pub ok: bool,
    pub detail: &'a str,
}

#[derive(Debug, Clone, Default)]
pub struct AuditFilter {
    pub action: Option<String>,
    pub server: Option<String>,
    pub limit: u32,
}

impl Db {
    pub fn insert_audit(&self, os_user: &str, a: &NewAudit<'_>) -> DbResult<()> {
        self.blocking(|| {
            self.conn().execute(
                "INSERT INTO audit (at, os_user, action, server, target, result, detail) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
                params![to_ms(Utc::now()), os_user, a.action, a.server, a.target, if a.ok { "ok" } else { "error" }, a.detail],
            )?;
            Ok(())
        })
    }

    /// Newest first.
    pub fn list_audit(&self, f: &AuditFilter) -> DbResult<Vec<AuditEntry>> {
        let conn = self.conn();
        let mut stmt = conn.prepare_cached(
            "SELECT id, at, os_user, action, server, target, result, detail FROM audit \
             WHERE (?1 IS NULL OR action LIKE ?1 || '%') AND (?2 IS NULL OR server = ?2) ORDER BY id DESC LIMIT ?3",
        )?;
        let limit = if f.limit == 0 { 100 } else { f.limit };
        let rows = stmt
            .query_map(params![f.action, f.server, limit], |r| {
                Ok(AuditEntry {
                    id: r.get(0)?,
                    at: from_ms(r.get(1)?),
                    os_user: r.get(2)?,
                    action: r.get(3)?,
                    server: r.get(4)?,
                    target: r.get(5)?,
                    result: r.get(6)?,
                    detail: r.get(7)?,
                })
            })?
            .collect::<Result<_, _>>()?;
        Ok(rows)
    }
}
