//! Backups of sites into their server's restic repository (the server's
//! side: assets/remote/backup.sh): made, listed offline, and checked. A
//! backup is good only once a check read its repository back whole.
//!
//! The repository's password is made here the first time a server gets a
//! backup, kept in the OS keyring (`backup-repo:SERVER`) before the server
//! has it, and sent on the script's stdin only.

use std::io::Cursor;

use zeroize::Zeroizing;

use crate::db::{BackupMade, BackupRecord, Drill, ServerRecord, SiteRecord};
use crate::error::{Error, Result};
use crate::ids::BackupId;
use crate::jobs::{Control, Scope};
use crate::remedy::{Listing, Remedy};
use crate::secret::Secret;
use crate::ssh::Input;
use crate::web::assets::BACKUP;
use crate::web::script::Report;
use crate::web::{config, Script};

use super::remote::{Transcript, WebJob};
use super::sites::{layout_of, site_script};
use super::Backups;

impl Backups<'_> {
    /// Backs up `domain`'s live release, `shared/`, its vhost and pool, and
    /// (PHP sites) its database; the row says what the snapshots hold.
    pub async fn create(&self, domain: &str, ctl: &Control) -> Result<BackupRecord> {
        let site = self.site_record(domain)?;
        let server = self.server_record(site.server.as_str())?;
        let password = self.repo_password(&server, true)?;
        let scope = Scope::Site(site.domain.to_string());
        let job = self.start_web_job("backup", site.domain.as_str(), &server, scope, ctl)?;
        let id = self.db.insert_backup(site.id, job.id)?;
        let script = backup_script("create", Some(&site), &[("BACKUP_ID", &id.to_string())])?;
        let (report, result, transcript) = self.run_backup(&server, &script, &password, &job).await;
        let result = result.and_then(|()| made(&report));
        match &result {
            Ok(made) => self.db.finish_backup(id, made)?,
            Err(e) => self.db.fail_backup(id, &e.to_string())?,
        }
        self.end_web_job(&job, &transcript, result.as_ref().err()).await?;
        let detail = match &result {
            Ok(m) => format!("backup {id}: {} files, {} bytes new, release {}", m.files, m.added_bytes, m.release),
            Err(e) => e.to_string(),
        };
        self.audit("backup", Some(server.name.as_str()), Some(site.domain.as_str()), result.is_ok(), &detail);
        result?;
        self.backup(id)
    }

    /// Restores backup `id` on its server into scratch copies (the files,
    /// checked against the snapshot by restic and counted against its
    /// listing; the dump, loaded into a scratch database whose tables and
    /// rows are counted), then removes them. Passed: the backup is
    /// restore-tested. The site itself is not touched.
    pub async fn drill(&self, id: BackupId, ctl: &Control) -> Result<BackupRecord> {
        let backup = self.finished(id)?;
        let files_snapshot = backup.files_snapshot.clone().unwrap_or_default();
        let site = self.site_record(&backup.domain)?;
        let server = self.server_record(site.server.as_str())?;
        let password = self.repo_password(&server, false)?;
        let scope = Scope::Site(site.domain.to_string());
        let job = self.start_web_job("backup.drill", &format!("{} backup {id}", site.domain), &server, scope, ctl)?;
        let started = std::time::Instant::now();
        // Once this drill passes, the newest restore-tested backup is
        // this one or a newer one tested before.
        let newest = match self.db.newest_restore_tested(site.id)?.map(|t| self.backup(t)).transpose()? {
            Some(t) if t.started_at > backup.started_at => t.files_snapshot.unwrap_or_default(),
            _ => files_snapshot.clone(),
        };
        let vars = [
            ("BACKUP_ID", id.to_string()),
            ("FILES_SNAPSHOT", files_snapshot),
            ("DB_SNAPSHOT", backup.db_snapshot.clone().unwrap_or_default()),
            ("PROTECT", newest),
        ];
        let vars: Vec<(&'static str, &str)> = vars.iter().map(|(k, v)| (*k, v.as_str())).collect();
        let script = backup_script("drill", Some(&site), &vars)?;
        let (report, result, transcript) = self.run_backup(&server, &script, &password, &job).await;
        let drill = Drill {
            files: u32::try_from(report.number("files")).unwrap_or(u32::MAX),
            tables: u32::try_from(report.number("tables")).unwrap_or(u32::MAX),
            rows: report.number("rows"),
            ms: started.elapsed().as_millis() as u64,
        };
        match &result {
            Ok(()) => self.db.finish_drill(id, &drill)?,
            Err(e) => self.db.fail_drill(id, &e.to_string())?,
        }
        self.end_web_job(&job, &transcript, result.as_ref().err()).await?;
        let detail = match &result {
            Ok(()) => format!(
                "backup {id} restored whole: {} files, {} tables, {} rows, in {} ms",
                drill.files, drill.tables, drill.rows, drill.ms
            ),
            Err(e) => e.to_string(),
        };
        self.audit("backup.drill", Some(server.name.as_str()), Some(site.domain.as_str()), result.is_ok(), &detail);
        result?;
        self.backup(id)
    }

    /// Backup `id`, from the cache (offline).
    pub fn show(&self, id: BackupId) -> Result<BackupRecord> {
        self.backup(id)
    }

    /// Backups, newest first, from the cache (offline): of one site, or of
    /// every site.
    pub fn list(&self, domain: Option<&str>, limit: u32) -> Result<Vec<BackupRecord>> {
        let site = domain.map(|d| self.site_record(d)).transpose()?;
        Ok(self.db.backups(site.map(|s| s.id), limit)?)
    }

    pub(super) fn backup(&self, id: BackupId) -> Result<BackupRecord> {
        self.db.backup(id)?.ok_or_else(|| Error::NotFound {
            what: "backup",
            name: id.to_string(),
            remedy: Remedy::List { what: Listing::Backups },
        })
    }

    /// Runs backup.sh on the job's server, the password on its stdin.
    pub(super) async fn run_backup(
        &self,
        server: &ServerRecord,
        script: &Script,
        password: &Secret,
        job: &WebJob,
    ) -> (Report, Result<()>, Transcript) {
        let mut transcript = Transcript::default();
        let input = Some(secret_input(password));
        let (report, result) = self.run_script(server, script, input, job, &mut transcript, &mut |_| {}).await;
        (report, result, transcript)
    }

    /// The server's repository password from the keyring; a new one
    /// (kept there first) when `make` and there is none yet.
    pub(super) fn repo_password(&self, server: &ServerRecord, make: bool) -> Result<Secret> {
        let account = match self.db.backup_repo_account(server.id)? {
            Some(a) => a,
            None => {
                // Backups made before entries were named per repository.
                let legacy = config::backup_account(server.name.as_str(), true);
                if self.secrets.get(&legacy)?.is_some() {
                    self.db.set_backup_repo_account(server.id, &legacy)?;
                }
                legacy
            }
        };
        match self.secrets.get(&account)? {
            Some(p) => Ok(p),
            None if make => {
                let account = config::backup_account(server.name.as_str(), false);
                let p = config::password(40);
                self.secrets.set(&account, &p)?;
                self.db.set_backup_repo_account(server.id, &account)?;
                Ok(p)
            }
            None => Err(Error::Usage(format!(
                "{} has no backups made by this desktop (its repository password is not in this keyring)",
                server.name
            ))),
        }
    }
}

/// backup.sh for `action`, every variable it reads set: the site's layout
/// when there is a site (a check names none), `vars`, the rest empty.
pub(super) fn backup_script(
    action: &'static str,
    site: Option<&SiteRecord>,
    vars: &[(&'static str, &str)],
) -> Result<Script> {
    let script = match site {
        Some(s) => site_script("backup", BACKUP, &layout_of(s), s.kind, s.php_version.as_deref())?,
        None => ["DOMAIN", "BASE", "SITE_USER", "WEB_GROUP", "KIND", "PHP"]
            .into_iter()
            .try_fold(Script::in_site("backup", BACKUP), |sc, name| sc.var(name, ""))?,
    };
    let mut script = script.var("ACTION", action)?.var("CHOM_VERSION", env!("CARGO_PKG_VERSION"))?;
    for name in [
        "BACKUP_ID",
        "FILES_SNAPSHOT",
        "DB_SNAPSHOT",
        "CHECK_SUBSET",
        "KEEP",
        "DRILL_DAYS",
        "PROTECT",
        "DRY_RUN",
        "CRON_HOUR",
        "CRON_MINUTE",
        "RUNNER",
        "SOURCE_RELEASE",
    ] {
        let value = vars.iter().find(|(k, _)| *k == name).map_or("", |(_, v)| *v);
        script = script.var(name, value)?;
    }
    Ok(script)
}

/// The password as the script's next stdin line.
pub(super) fn secret_input(password: &Secret) -> Input {
    Box::new(Cursor::new(Zeroizing::new(format!("{}\n", password.expose()).into_bytes())))
}

/// What the script's report says the backup made.
fn made(report: &Report) -> Result<BackupMade> {
    let text = |k: &str| report.value(k).map(str::to_owned);
    let files_snapshot =
        text("files_snapshot").ok_or_else(|| Error::Internal("the backup script reported no files snapshot".into()))?;
    Ok(BackupMade {
        release: text("release").unwrap_or_default(),
        files_snapshot,
        db_snapshot: text("db_snapshot"),
        files: report.number("files"),
        bytes: report.number("bytes"),
        added_bytes: report.number("added"),
        db_bytes: report.number("db_bytes"),
        db_engine: text("engine"),
    })
}
