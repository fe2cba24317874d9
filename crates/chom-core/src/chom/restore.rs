//! Restores of a backup into its own site (the server's side:
//! assets/remote/restore.sh): the backed-up release, `shared/` and
//! database built beside the live ones, checked, swapped in, checked live,
//! and kept swappable, so one undo brings back what served before.

use serde::{Deserialize, Serialize};

use crate::db::{BackupRecord, BackupState, SiteRecord};
use crate::error::{Error, Result};
use crate::ids::{BackupId, JobId};
use crate::jobs::{Control, Scope};
use crate::ssh::Input;
use crate::validate::{HealthPath, ReleaseId};
use crate::web::assets::RESTORE;
use crate::web::Script;

use super::backup::secret_input;
use super::deploy::check_health_text;
use super::remote::Transcript;
use super::restore_to::RestoreTarget;
use super::sites::{layout_of, site_script};
use super::Backups;

/// What of a backup goes back.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
#[serde(rename_all = "snake_case")]
pub enum RestoreParts {
    /// The release, `shared/` (uploads, storage, secrets) and the database.
    Site,
    /// The database alone; the site's files stay as they are.
    Database,
}

impl RestoreParts {
    pub fn as_str(self) -> &'static str {
        match self {
            RestoreParts::Site => "site",
            RestoreParts::Database => "database",
        }
    }
}

#[derive(Debug, Clone, Deserialize)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
pub struct RestoreRequest {
    pub parts: RestoreParts,
    /// The page the restored site must answer before and after the switch
    /// (default `/`), and text it must contain.
    pub health_path: Option<String>,
    pub health_text: Option<String>,
    /// Another site to restore into (made unless it exists); `None`: the
    /// backed-up site itself.
    #[serde(default)]
    pub to: Option<RestoreTarget>,
}

/// What a restore or its undo left live.
#[derive(Debug, Clone, Serialize)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
pub struct RestoreReport {
    pub job_id: JobId,
    pub domain: String,
    /// The backup restored; `None` for an undo.
    pub backup: Option<BackupId>,
    /// The release serving now, and the one that served before.
    pub release: Option<ReleaseId>,
    pub previous: Option<ReleaseId>,
}

impl Backups<'_> {
    /// Restores backup `id` into its own site. Whatever fails before the
    /// switch, or the live check after it, the site serves what it served.
    pub async fn restore(&self, id: BackupId, req: &RestoreRequest, ctl: &Control) -> Result<RestoreReport> {
        let health_path = HealthPath::parse(req.health_path.as_deref().unwrap_or("/"))?;
        check_health_text(req.health_text.as_deref())?;
        if let Some(to) = &req.to {
            return self.restore_into(id, to, req, &health_path, ctl).await;
        }
        let backup = self.finished(id)?;
        let site = self.site_record(&backup.domain)?;
        if req.parts == RestoreParts::Database && backup.db_snapshot.is_none() {
            return Err(Error::Usage(format!("backup {id} of {} holds no database", backup.domain)));
        }
        let source_release = match (req.parts, backup.release.as_deref().map(ReleaseId::parse)) {
            (RestoreParts::Database, _) => String::new(),
            (RestoreParts::Site, Some(Ok(r))) => r.to_string(),
            (RestoreParts::Site, _) => {
                return Err(Error::Usage(format!("backup {id} names no release of {} to restore", backup.domain)))
            }
        };
        let release = ReleaseId::new_now();
        let (id_text, base) = (id.to_string(), layout_of(&site).base);
        let vars = [
            ("PARTS", req.parts.as_str()),
            ("SOURCE", "restic"),
            ("BACKUP_ID", &id_text),
            ("FILES_SNAPSHOT", backup.files_snapshot.as_deref().unwrap_or("")),
            ("DB_SNAPSHOT", backup.db_snapshot.as_deref().unwrap_or("")),
            ("SOURCE_BASE", &base),
            ("SOURCE_RELEASE", &source_release),
            ("SOURCE_DOMAIN", &backup.domain),
            ("RELEASE", &release),
            ("HEALTH_PATH", health_path.as_str()),
            ("HEALTH_TEXT", req.health_text.as_deref().unwrap_or("")),
        ];
        let script = restore_script("restore", &site, &vars)?;
        let server = self.server_record(site.server.as_str())?;
        let password = self.repo_password(&server, false)?;
        let what = format!("{} from backup {id} ({})", site.domain, req.parts.as_str());
        let swap = Swap { kind: "backup.restore", what, backup: Some(id) };
        self.swap_job(swap, &site, script, Some(secret_input(&password)), ctl).await
    }

    /// Switches `domain` back to what served before its last restore (or,
    /// after an undo, to the restored state again).
    pub async fn undo(&self, domain: &str, ctl: &Control) -> Result<RestoreReport> {
        let site = self.site_record(domain)?;
        // The live check after the switch asks for the site's front page.
        let script = restore_script("undo", &site, &[("HEALTH_PATH", "/")])?;
        let swap = Swap { kind: "backup.undo", what: site.domain.to_string(), backup: None };
        self.swap_job(swap, &site, script, None, ctl).await
    }

    pub(super) async fn swap_job(
        &self,
        swap: Swap,
        site: &SiteRecord,
        script: Script,
        input: Option<Input>,
        ctl: &Control,
    ) -> Result<RestoreReport> {
        let Swap { kind, what, backup } = swap;
        let server = self.server_record(site.server.as_str())?;
        let job = self.start_web_job(kind, &what, &server, Scope::Site(site.domain.to_string()), ctl)?;
        let mut transcript = Transcript::default();
        let (report, result) = self.run_script(&server, &script, input, &job, &mut transcript, &mut |_| {}).await;
        // What serves now: the script says so when it finished; else the
        // server is asked, so the cache never claims a release that is not live.
        let live = match &result {
            Ok(()) => report.value("release").and_then(|r| ReleaseId::parse(r).ok()),
            Err(_) => self.read_releases(site, &server).await.ok().and_then(|r| r.current),
        };
        if let Some(live) = &live {
            self.db.set_site_release(site.id, Some(live))?;
        }
        self.end_web_job(&job, &transcript, result.as_ref().err()).await?;
        let previous = report.value("previous").and_then(|p| ReleaseId::parse(p).ok());
        let detail = match &result {
            Ok(()) => format!("{what}: {} live", live.as_deref().unwrap_or("?")),
            Err(e) => e.to_string(),
        };
        self.audit(kind, Some(server.name.as_str()), Some(site.domain.as_str()), result.is_ok(), &detail);
        result?;
        Ok(RestoreReport { job_id: job.id, domain: site.domain.to_string(), backup, release: live, previous })
    }

    /// Backup `id`, when it finished whole (nothing else is restored from).
    pub(super) fn finished(&self, id: BackupId) -> Result<BackupRecord> {
        let backup = self.backup(id)?;
        match (&backup.files_snapshot, backup.state) {
            (Some(_), BackupState::Done) => Ok(backup),
            _ => Err(Error::Usage(format!(
                "backup {id} of {} is {}: only a finished backup can be restored or drilled",
                backup.domain,
                backup.state.as_str()
            ))),
        }
    }
}

/// A restore or an undo, as its job and audit entry name it.
pub(super) struct Swap {
    pub kind: &'static str,
    pub what: String,
    pub backup: Option<BackupId>,
}

/// restore.sh for `action`, every variable it reads set: `vars`, the rest
/// empty.
pub(super) fn restore_script(action: &'static str, site: &SiteRecord, vars: &[(&'static str, &str)]) -> Result<Script> {
    let mut script = site_script("restore", RESTORE, &layout_of(site), site.kind, site.php_version.as_deref())?
        .var("ACTION", action)?;
    for name in [
        "PARTS",
        "SOURCE",
        "FILES_DIR",
        "NEW_SITE",
        "SITE_URL",
        "BACKUP_ID",
        "FILES_SNAPSHOT",
        "DB_SNAPSHOT",
        "SOURCE_BASE",
        "SOURCE_RELEASE",
        "SOURCE_DOMAIN",
        "RELEASE",
        "HEALTH_PATH",
        "HEALTH_TEXT",
    ] {
        let value = vars.iter().find(|(k, _)| *k == name).map_or("", |(_, v)| *v);
        script = script.var(name, value)?;
    }
    Ok(script)
}
