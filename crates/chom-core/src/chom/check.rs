//! `chom backup check SERVER`: the server's repository read back by
//! `restic check`. Whole: every backup made before is good. Damaged: the
//! backups whose data is in the damaged packs are named and lose their
//! good mark; when the damage cannot be placed, none of the server's
//! backups stays good.

use chrono::Utc;
use serde::Serialize;

use crate::db::ServerRecord;
use crate::error::{Error, Result};
use crate::jobs::{Control, Scope};
use crate::web::WebError;

use super::backup::backup_script;
use super::Backups;

/// What a check of a server's repository found.
#[derive(Debug, Clone, Serialize)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
pub struct CheckReport {
    pub server: String,
    /// Percent of the repository's data read back (100: all of it).
    pub read_percent: u8,
    /// Backups of the server's sites now listed good.
    pub verified: u32,
    /// The OS keyring entry (service chom-desktop) that holds the
    /// repository's password.
    pub repository_entry: String,
}

impl Backups<'_> {
    /// Reads `read_percent` of the server's repository back (`restic check`).
    pub async fn check(&self, server: &str, read_percent: u8, ctl: &Control) -> Result<CheckReport> {
        if !(1..=100).contains(&read_percent) {
            return Err(Error::Usage(format!("read 1 to 100 percent of the repository, not {read_percent}")));
        }
        let server = self.server_record(server)?;
        let password = self.repo_password(&server, false)?;
        let job = self.start_web_job(
            "backup.check",
            server.name.as_str(),
            &server,
            Scope::Server(server.name.to_string()),
            ctl,
        )?;
        let started = Utc::now();
        let script = backup_script("check", None, &[("CHECK_SUBSET", &read_percent.to_string())])?;
        let (report, result, transcript) = self.run_backup(&server, &script, &password, &job).await;
        let (result, verified) = match result {
            Ok(()) => {
                let verified = self.db.mark_backups_verified(server.id, started, read_percent == 100)?;
                (Ok(()), verified)
            }
            Err(Error::Web(e)) => {
                let damaged: Vec<&str> = report.value("damaged").unwrap_or_default().split_whitespace().collect();
                (Err(self.damage_found(&server, e, &damaged)?), 0)
            }
            Err(e) => (Err(e), 0),
        };
        self.end_web_job(&job, &transcript, result.as_ref().err()).await?;
        let detail = match &result {
            Ok(()) => format!("{read_percent}% read back whole; {verified} backups good"),
            Err(e) => e.to_string(),
        };
        self.audit("backup.check", Some(server.name.as_str()), None, result.is_ok(), &detail);
        result?;
        Ok(CheckReport {
            server: server.name.to_string(),
            read_percent,
            verified: u32::try_from(verified).unwrap_or(u32::MAX),
            repository_entry: self.db.backup_repo_account(server.id)?.unwrap_or_default(),
        })
    }

    /// Marks what the failed check `e` found: the backups with data in the
    /// `damaged` snapshots, or, when it named none of CHOM's, every backup
    /// of the server. The error names them.
    fn damage_found(&self, server: &ServerRecord, e: WebError, damaged: &[&str]) -> Result<Error> {
        let detail = match &e {
            WebError::Remote { detail, .. } => detail.clone(),
            other => other.to_string(),
        };
        let hit =
            if damaged.is_empty() { Vec::new() } else { self.db.mark_backups_damaged(server.id, damaged, &detail)? };
        if hit.is_empty() {
            self.db.unmark_backups_verified(server.id)?;
            return Ok(Error::Web(WebError::Remote {
                server: server.name.to_string(),
                what: "backup check".into(),
                detail: format!("{detail}; no backup of {} is listed good until a check passes", server.name),
            }));
        }
        let mut named = Vec::with_capacity(hit.len());
        for id in &hit {
            let b = self.backup(*id)?;
            named.push(format!("{id} ({}, {})", b.domain, b.started_at.format("%Y-%m-%d %H:%M UTC")));
        }
        Ok(Error::Web(WebError::Remote {
            server: server.name.to_string(),
            what: "backup check".into(),
            detail: format!(
                "the data of backup{} {} is damaged, so {} cannot be restored: back those sites up again \
                 (chom backup create DOMAIN); restic said: {detail}",
                if hit.len() == 1 { "" } else { "s" },
                named.join(", "),
                if hit.len() == 1 { "it" } else { "they" },
            ),
        }))
    }
}
