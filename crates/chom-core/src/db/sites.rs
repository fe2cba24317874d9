//! The `sites` and `deploys` tables.

use chrono::{DateTime, Utc};
use rusqlite::{params, OptionalExtension, Row};
use serde::Serialize;

use super::{from_ms, to_ms, Db, DbError, DbResult};
use crate::ids::{DeployId, JobId, ServerId, SiteId};
use crate::validate::{DomainName, ReleaseId, ServerName};
use crate::web::SiteKind;

#[derive(Debug, Clone, Serialize)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
pub struct SiteRecord {
    #[serde(skip)]
    pub id: SiteId,
    #[serde(skip)]
    pub server_id: ServerId,
    pub domain: DomainName,
    pub server: ServerName,
    pub kind: SiteKind,
    pub php_version: Option<String>,
    pub aliases: Vec<DomainName>,
    pub site_user: String,
    pub enabled: bool,
    pub current_release: Option<ReleaseId>,
    pub ssl_expires_at: Option<DateTime<Utc>>,
    pub ssl_checked_at: Option<DateTime<Utc>>,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
    /// WordPress only: the site's user may write plugins, themes and
    /// upgrade/ of the live release, for updates from its dashboard.
    pub dashboard_updates: bool,
}

pub struct NewSite<'a> {
    pub server_id: ServerId,
    pub domain: &'a DomainName,
    pub kind: SiteKind,
    pub php_version: Option<&'a str>,
    pub aliases: &'a [DomainName],
    pub site_user: &'a str,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
#[serde(rename_all = "snake_case")]
pub enum DeployState {
    Running,
    Live,
    Failed,
    Interrupted,
    /// Stopped by the operator before it finished.
    Cancelled,
}

impl DeployState {
    pub fn as_str(self) -> &'static str {
        match self {
            DeployState::Running => "running",
            DeployState::Live => "live",
            DeployState::Failed => "failed",
            DeployState::Interrupted => "interrupted",
            DeployState::Cancelled => "cancelled",
        }
    }

    fn parse(s: &str) -> DeployState {
        match s {
            "running" => DeployState::Running,
            "live" => DeployState::Live,
            "failed" => DeployState::Failed,
            "cancelled" => DeployState::Cancelled,
            _ => DeployState::Interrupted,
        }
    }
}

#[derive(Debug, Clone, Serialize)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
pub struct DeployRecord {
    pub id: DeployId,
    pub job_id: Option<JobId>,
    pub kind: String,
    pub release_id: String,
    pub source: String,
    pub state: DeployState,
    pub step: String,
    pub message: String,
    pub started_at: DateTime<Utc>,
    pub finished_at: Option<DateTime<Utc>>,
}

const SITE_COLUMNS: &str = "s.id, s.server_id, s.domain, sv.name, s.kind, s.php_version, s.aliases, s.site_user,
     s.enabled, s.current_release, s.ssl_expires_at, s.ssl_checked_at, s.created_at, s.updated_at, s.dashboard_updates";

/// A row as stored; `into_record` re-validates the names, so a hand-edited
/// row cannot smuggle a hostile domain into a remote command.
struct RawSite {
    id: SiteId,
    server_id: ServerId,
    domain: String,
    server: String,
    kind: String,
    php_version: Option<String>,
    aliases: String,
    site_user: String,
    enabled: bool,
    current_release: Option<String>,
    ssl_expires_at: Option<i64>,
    ssl_checked_at: Option<i64>,
    created_at: i64,
    updated_at: i64,
    dashboard_updates: bool,
}

fn site_row(r: &Row<'_>) -> rusqlite::Result<RawSite> {
    Ok(RawSite {
        id: r.get(0)?,
        server_id: r.get(1)?,
        domain: r.get(2)?,
        server: r.get(3)?,
        kind: r.get(4)?,
        php_version: r.get(5)?,
        aliases: r.get(6)?,
        site_user: r.get(7)?,
        enabled: r.get::<_, i64>(8)? != 0,
        current_release: r.get(9)?,
        ssl_expires_at: r.get(10)?,
        ssl_checked_at: r.get(11)?,
        created_at: r.get(12)?,
        updated_at: r.get(13)?,
        dashboard_updates: r.get::<_, i64>(14)? != 0,
    })
}

impl RawSite {
    fn into_record(self) -> DbResult<SiteRecord> {
        let id = self.id;
        let corrupt = |what: String| DbError::Corrupt(format!("site {id}: {what}"));
        Ok(SiteRecord {
            id,
            server_id: self.server_id,
            domain: DomainName::parse(&self.domain).map_err(|e| corrupt(e.to_string()))?,
            server: ServerName::parse(&self.server).map_err(|e| corrupt(e.to_string()))?,
            kind: SiteKind::parse(&self.kind).ok_or_else(|| corrupt(format!("unknown kind {:?}", self.kind)))?,
            php_version: self.php_version,
            aliases: self
                .aliases
                .split_whitespace()
                .map(DomainName::parse)
                .collect::<Result<_, _>>()
                .map_err(|e| corrupt(e.to_string()))?,
            site_user: self.site_user,
            enabled: self.enabled,
            current_release: self
                .current_release
                .map(|r| ReleaseId::parse(&r))
                .transpose()
                .map_err(|e| corrupt(e.to_string()))?,
            ssl_expires_at: self.ssl_expires_at.map(from_ms),
            ssl_checked_at: self.ssl_checked_at.map(from_ms),
            created_at: from_ms(self.created_at),
            updated_at: from_ms(self.updated_at),
            dashboard_updates: self.dashboard_updates,
        })
    }
}

impl Db {
    pub fn insert_site(&self, s: &NewSite<'_>) -> DbResult<SiteId> {
        self.blocking(|| {
            let now = to_ms(Utc::now());
            let aliases: Vec<&str> = s.aliases.iter().map(|a| a.as_str()).collect();
            let conn = self.conn();
            conn.execute(
                "INSERT INTO sites (server_id, domain, kind, php_version, aliases, site_user, created_at, updated_at)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?7)",
                params![
                    s.server_id,
                    s.domain.as_str(),
                    s.kind.as_str(),
                    s.php_version,
                    aliases.join(" "),
                    s.site_user,
                    now
                ],
            )?;
            Ok(SiteId(conn.last_insert_rowid()))
        })
    }

    pub fn site(&self, domain: &str) -> DbResult<Option<SiteRecord>> {
        let conn = self.conn();
        let row = conn
            .query_row(
                &format!(
                    "SELECT {SITE_COLUMNS} FROM sites s JOIN servers sv ON sv.id = s.server_id WHERE s.domain = ?1"
                ),
                [domain],
                site_row,
            )
            .optional()?;
        row.map(RawSite::into_record).transpose()
    }

    /// Sites, by domain; only those of `server` when given.
    pub fn list_sites(&self, server: Option<&str>) -> DbResult<Vec<SiteRecord>> {
        let conn = self.conn();
        let mut stmt = conn.prepare(&format!(
            "SELECT {SITE_COLUMNS} FROM sites s JOIN servers sv ON sv.id = s.server_id
             WHERE ?1 IS NULL OR sv.name = ?1 ORDER BY s.domain"
        ))?;
        let rows = stmt.query_map([server], site_row)?.collect::<Result<Vec<_>, _>>()?;
        rows.into_iter().map(RawSite::into_record).collect()
    }

    /// How many sites each server holds, by server id.
    pub fn site_counts(&self) -> DbResult<std::collections::HashMap<ServerId, u32>> {
        let conn = self.conn();
        let mut stmt = conn.prepare("SELECT server_id, COUNT(*) FROM sites GROUP BY server_id")?;
        let rows = stmt.query_map([], |r| Ok((r.get(0)?, r.get(1)?)))?;
        Ok(rows.collect::<Result<_, _>>()?)
    }

    pub fn set_site_enabled(&self, id: SiteId, enabled: bool) -> DbResult<()> {
        self.blocking(|| {
            self.conn().execute(
                "UPDATE sites SET enabled = ?2, updated_at = ?3 WHERE id = ?1",
                params![id, enabled, to_ms(Utc::now())],
            )?;
            Ok(())
        })
    }

    pub fn set_site_dashboard_updates(&self, id: SiteId, on: bool) -> DbResult<()> {
        self.blocking(|| {
            self.conn().execute(
                "UPDATE sites SET dashboard_updates = ?2, updated_at = ?3 WHERE id = ?1",
                params![id, on, to_ms(Utc::now())],
            )?;
            Ok(())
        })
    }

    pub fn set_site_release(&self, id: SiteId, release: Option<&str>) -> DbResult<()> {
        self.blocking(|| {
            self.conn().execute(
                "UPDATE sites SET current_release = ?2, updated_at = ?3 WHERE id = ?1",
                params![id, release, to_ms(Utc::now())],
            )?;
            Ok(())
        })
    }

    pub fn set_site_ssl(&self, id: SiteId, expires: Option<DateTime<Utc>>) -> DbResult<()> {
        self.blocking(|| {
            self.conn().execute(
                "UPDATE sites SET ssl_expires_at = ?2, ssl_checked_at = ?3 WHERE id = ?1",
                params![id, expires.map(to_ms), to_ms(Utc::now())],
            )?;
            Ok(())
        })
    }

    pub fn delete_site(&self, id: SiteId) -> DbResult<()> {
        self.blocking(|| {
            self.conn().execute("DELETE FROM sites WHERE id = ?1", [id])?;
            Ok(())
        })
    }

    pub fn insert_deploy(
        &self,
        site_id: SiteId,
        job_id: JobId,
        kind: &str,
        release: &str,
        source: &str,
    ) -> DbResult<DeployId> {
        self.blocking(|| {
            let conn = self.conn();
            conn.execute(
                "INSERT INTO deploys (site_id, job_id, kind, release_id, source, state, started_at)
                 VALUES (?1, ?2, ?3, ?4, ?5, 'running', ?6)",
                params![site_id, job_id, kind, release, source, to_ms(Utc::now())],
            )?;
            Ok(DeployId(conn.last_insert_rowid()))
        })
    }

    /// A rollback learns its target release from the server.
    pub fn set_deploy_release(&self, id: DeployId, release: &str) -> DbResult<()> {
        self.blocking(|| {
            self.conn().execute("UPDATE deploys SET release_id = ?2 WHERE id = ?1", params![id, release])?;
            Ok(())
        })
    }

    /// The deploy (or rollback) row job `job_id` wrote: (id, release).
    pub fn deploy_of_job(&self, job_id: JobId) -> DbResult<Option<(DeployId, String)>> {
        Ok(self
            .conn()
            .query_row("SELECT id, release_id FROM deploys WHERE job_id = ?1 ORDER BY id DESC LIMIT 1", [job_id], |r| {
                Ok((r.get(0)?, r.get(1)?))
            })
            .optional()?)
    }

    pub fn deploy_step(&self, id: DeployId, step: &str) -> DbResult<()> {
        self.blocking(|| {
            self.conn().execute("UPDATE deploys SET step = ?2 WHERE id = ?1", params![id, step])?;
            Ok(())
        })
    }

    pub fn finish_deploy(&self, id: DeployId, state: DeployState, message: &str) -> DbResult<()> {
        self.blocking(|| {
            self.conn().execute(
                "UPDATE deploys SET state = ?2, message = ?3, finished_at = ?4 WHERE id = ?1",
                params![id, state.as_str(), message, to_ms(Utc::now())],
            )?;
            Ok(())
        })
    }

    pub fn deploys(&self, site_id: SiteId, limit: u32) -> DbResult<Vec<DeployRecord>> {
        let conn = self.conn();
        let mut stmt = conn.prepare(
            "SELECT id, job_id, kind, release_id, source, state, step, message, started_at, finished_at
             FROM deploys WHERE site_id = ?1 ORDER BY started_at DESC, id DESC LIMIT ?2",
        )?;
        let rows = stmt.query_map(params![site_id, limit], |r| {
            Ok(DeployRecord {
                id: r.get(0)?,
                job_id: r.get(1)?,
                kind: r.get(2)?,
                release_id: r.get(3)?,
                source: r.get(4)?,
                state: DeployState::parse(&r.get::<_, String>(5)?),
                step: r.get(6)?,
                message: r.get(7)?,
                started_at: from_ms(r.get(8)?),
                finished_at: r.get::<_, Option<i64>>(9)?.map(from_ms),
            })
        })?;
        Ok(rows.collect::<Result<_, _>>()?)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// CHOM killed mid-deploy: on the next start the deploy row says it was
    /// interrupted (the server kept serving what `current` pointed at), and
    /// the site's cached release is left as it was.
    #[test]
    fn deploys_of_a_crashed_process_become_interrupted() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("c.sqlite3");
        let (db, site) = super::super::test_site(&path);
        db.set_site_release(site, Some("r1")).unwrap();
        let job = db.insert_job("deploy", "", "op", 1, None).unwrap();
        let deploy = db.insert_deploy(site, job, "deploy", "r2", "folder x").unwrap();
        db.deploy_step(deploy, "upload").unwrap();
        // PID 0 is never a user process: stands for the CHOM that died.
        db.conn().execute("UPDATE jobs SET pid = 0 WHERE id = ?1", [job]).unwrap();
        drop(db);

        let db = Db::open(&path).unwrap();
        db.mark_interrupted_jobs().unwrap();
        let d = &db.deploys(site, 5).unwrap()[0];
        assert_eq!((d.state, d.step.as_str()), (DeployState::Interrupted, "upload"));
        assert!(d.message.contains("kept the release it was serving"), "{}", d.message);
        assert_eq!(db.site("a.example.test").unwrap().unwrap().current_release.as_deref(), Some("r1"));
    }
}
