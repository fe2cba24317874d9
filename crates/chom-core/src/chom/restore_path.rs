//! One file or folder of a backup put back into its own site, beside what
//! is there (the server's side: assets/remote/restore-path.sh): into a
//! folder of `shared/` that the site's user can write, as that user, never
//! replacing anything. The live release and the database are not touched.

use serde::{Deserialize, Serialize};

use crate::error::{Error, Result};
use crate::ids::{BackupId, JobId};
use crate::jobs::{Control, Scope};
use crate::validate::{BackupPath, ReleaseId, SharedFolder};
use crate::web::assets::RESTORE_PATH;

use super::backup::secret_input;
use super::remote::Transcript;
use super::sites::{layout_of, site_script};
use super::Backups;

#[derive(Debug, Clone, Deserialize)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
pub struct PathRestoreRequest {
    /// What to restore, as the site had it: `shared/...` or `current/...`.
    pub path: String,
    /// A folder of `shared/` to put it in (made when missing); `None`:
    /// `shared/restored/BACKUP_ID`.
    pub into: Option<String>,
}

/// Where a restored file or folder went.
#[derive(Debug, Clone, Serialize)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
pub struct PathRestoreReport {
    pub job_id: JobId,
    pub domain: String,
    pub backup: BackupId,
    /// Its place in the site, relative to the site's folder (`shared/...`).
    pub placed: String,
    /// Files and links restored (folders not counted).
    pub files: u32,
}

impl Backups<'_> {
    /// Restores `req.path` of backup `id` into its site's `shared/`.
    pub async fn restore_path(
        &self,
        id: BackupId,
        req: &PathRestoreRequest,
        ctl: &Control,
    ) -> Result<PathRestoreReport> {
        let path = BackupPath::parse(&req.path)?;
        let into = req.into.as_deref().map(SharedFolder::parse).transpose()?;
        let backup = self.finished(id)?;
        let release = match (path.as_str().starts_with("current/"), backup.release.as_deref().map(ReleaseId::parse)) {
            (false, _) => String::new(),
            (true, Some(Ok(r))) => r.to_string(),
            (true, _) => return Err(Error::Usage(format!("backup {id} of {} names no release", backup.domain))),
        };
        let site = self.site_record(&backup.domain)?;
        let server = self.server_record(site.server.as_str())?;
        let password = self.repo_password(&server, false)?;
        let script =
            site_script("restore-path", RESTORE_PATH, &layout_of(&site), site.kind, site.php_version.as_deref())?
                .var("BACKUP_ID", &id.to_string())?
                .var("FILES_SNAPSHOT", backup.files_snapshot.as_deref().unwrap_or(""))?
                .var("SOURCE_RELEASE", &release)?
                .var("ITEM", path.as_str())?
                .var("INTO", into.as_ref().map_or("", SharedFolder::as_str))?;
        let what = format!("{} of {} from backup {id}", path, site.domain);
        let job =
            self.start_web_job("backup.restore_path", &what, &server, Scope::Site(site.domain.to_string()), ctl)?;
        let mut transcript = Transcript::default();
        let input = Some(secret_input(&password));
        let (report, result) = self.run_script(&server, &script, input, &job, &mut transcript, &mut |_| {}).await;
        self.end_web_job(&job, &transcript, result.as_ref().err()).await?;
        let placed = report.value("placed").unwrap_or_default().to_owned();
        let detail = match &result {
            Ok(()) => format!("{what}: in {placed}"),
            Err(e) => e.to_string(),
        };
        self.audit(
            "backup.restore_path",
            Some(server.name.as_str()),
            Some(site.domain.as_str()),
            result.is_ok(),
            &detail,
        );
        result?;
        Ok(PathRestoreReport {
            job_id: job.id,
            domain: site.domain.to_string(),
            backup: id,
            placed,
            files: u32::try_from(report.number("files")).unwrap_or(u32::MAX),
        })
    }
}
