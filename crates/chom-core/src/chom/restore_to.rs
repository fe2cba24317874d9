//! A backup restored into another site, on the same or another server,
//! and a backup downloaded to this computer. The backup leaves its
//! repository as plain files (backup.sh's export: release.tar, shared.tar,
//! database.sql, each SHA-256-checked in transit); to another server they
//! travel through this computer and are uploaded into a root-only inbox;
//! the target site (made first, unless it exists) is restored from them
//! with its own database credentials, like a restore into the same site:
//! built beside, checked, swapped, checked live.

use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use crate::db::{BackupRecord, ServerRecord, SiteRecord};
use crate::error::{Error, Result};
use crate::ids::BackupId;
use crate::jobs::{Control, Scope};
use crate::validate::{DomainName, HealthPath, ReleaseId};
use crate::web::script::Report;
use crate::web::SiteKind;

use super::backup::{backup_script, secret_input};
use super::deploy::check_health_text;
use super::remote::Transcript;
use super::restore::{restore_script, RestoreParts, RestoreReport, RestoreRequest, Swap};
use super::sites::SiteInput;
use super::{Backups, Sites, Transfers};

/// The files an export makes, the dump only for a site with a database.
const PARTS: [&str; 4] = ["backup.txt", "release.tar", "shared.tar", "database.sql"];

/// Another site to restore into: made on `server` (default: the backup's)
/// unless it exists.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
pub struct RestoreTarget {
    pub domain: String,
    pub server: Option<String>,
}

/// A backup downloaded: where its files are.
#[derive(Debug, Clone, Serialize)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
pub struct Downloaded {
    pub backup: BackupId,
    pub folder: String,
    pub files: Vec<String>,
}

impl Backups<'_> {
    /// Restores backup `id` into `to` (see the module's text).
    pub(super) async fn restore_into(
        &self,
        id: BackupId,
        to: &RestoreTarget,
        req: &RestoreRequest,
        health_path: &HealthPath,
        ctl: &Control,
    ) -> Result<RestoreReport> {
        if req.parts != RestoreParts::Site {
            return Err(Error::Usage("into another site, the whole site is restored (not --database)".into()));
        }
        let domain = DomainName::parse(&to.domain)?;
        let backup = self.finished(id)?;
        let source = self.site_record(&backup.domain)?;
        if source.domain == domain {
            return Err(Error::Usage(format!("{domain} is the backed-up site itself: restore without --to")));
        }
        let source_server = self.server_record(source.server.as_str())?;
        let server = to.server.clone().unwrap_or_else(|| source.server.to_string());
        let target = self.target_site(&domain, source.kind, source.php_version.clone(), server, ctl).await?;
        let target_server = self.server_record(target.server.as_str())?;
        let exported = self.export(&backup, &source, &source_server, ctl).await?;
        let files_dir = if target_server.id == source_server.id {
            exported
        } else {
            let result = self.carry(&backup, &exported, &source_server, &target, &target_server, ctl).await;
            self.unexport(&backup, &source, &source_server).await;
            result?
        };
        let what = format!("{} from backup {id} of {}", target.domain, source.domain);
        let from = Files { dir: files_dir, label: id.to_string(), backup: Some(id) };
        self.restore_files(&target, from, what, health_path, req.health_text.as_deref(), ctl).await
    }

    /// Restores a backup downloaded to this computer (`folder`, as
    /// `download` left it) into site `to`, made unless it exists.
    pub async fn upload(
        &self,
        folder: &Path,
        to: &RestoreTarget,
        req: &RestoreRequest,
        ctl: &Control,
    ) -> Result<RestoreReport> {
        let health_path = HealthPath::parse(req.health_path.as_deref().unwrap_or("/"))?;
        check_health_text(req.health_text.as_deref())?;
        let domain = DomainName::parse(&to.domain)?;
        if !folder.join("backup.txt").is_file() {
            return Err(Error::Usage(format!(
                "{} holds no backup.txt: not a folder chom backup download made",
                folder.display()
            )));
        }
        let about = std::fs::read_to_string(folder.join("backup.txt")).map_err(|e| Error::LocalFile {
            path: folder.join("backup.txt"),
            what: "reading".into(),
            detail: e.to_string(),
        })?;
        let field = |k: &str| about.lines().find_map(|l| l.strip_prefix(k)?.strip_prefix(' ')).unwrap_or("").trim();
        let kind = SiteKind::parse(field("kind")).ok_or_else(|| {
            Error::Usage(format!("{}/backup.txt names no site kind: not a downloaded backup", folder.display()))
        })?;
        let present: Vec<&'static str> = PARTS.into_iter().filter(|p| folder.join(p).is_file()).collect();
        if !present.contains(&"release.tar") || !present.contains(&"shared.tar") {
            return Err(Error::Usage(format!(
                "{} holds no release.tar and shared.tar: not a downloaded backup",
                folder.display()
            )));
        }
        let server = match (&to.server, self.db.site(domain.as_str())?) {
            (Some(s), _) => s.clone(),
            (None, Some(site)) => site.server.to_string(),
            (None, None) => {
                return Err(Error::Usage(format!(
                    "{domain} does not exist yet: say which server it goes on (--server)"
                )))
            }
        };
        let target = self.target_site(&domain, kind, None, server, ctl).await?;
        let target_server = self.server_record(target.server.as_str())?;
        let label = chrono::Utc::now().timestamp_millis().to_string();
        let dir = self.upload_into_inbox(&target, &target_server, folder, &present, &label, ctl).await?;
        let what = format!("{} from the backup files in {}", target.domain, folder.display());
        let from = Files { dir, label, backup: None };
        self.restore_files(&target, from, what, &health_path, req.health_text.as_deref(), ctl).await
    }

    /// Site `domain`, made (of `kind`, on `server`) unless it exists; an
    /// existing site must be of `kind`.
    async fn target_site(
        &self,
        domain: &DomainName,
        kind: SiteKind,
        php: Option<String>,
        server: String,
        ctl: &Control,
    ) -> Result<SiteRecord> {
        let target = match self.db.site(domain.as_str())? {
            Some(site) => site,
            None => {
                let input = SiteInput { domain: domain.to_string(), kind, server: Some(server), php, aliases: vec![] };
                Sites(self.0).create_site(&input, ctl).await?;
                self.site_record(domain.as_str())?
            }
        };
        if target.kind != kind {
            return Err(Error::Usage(format!(
                "{} is a {} site and the backup is of a {} site",
                target.domain,
                target.kind.as_str(),
                kind.as_str()
            )));
        }
        Ok(target)
    }

    /// restore.sh from the backup files in `from.dir` on the target's server.
    async fn restore_files(
        &self,
        target: &SiteRecord,
        from: Files,
        what: String,
        health_path: &HealthPath,
        health_text: Option<&str>,
        ctl: &Control,
    ) -> Result<RestoreReport> {
        let release = ReleaseId::new_now();
        let url = format!("http://{}", target.domain);
        let vars = [
            ("PARTS", "site"),
            ("BACKUP_ID", from.label.as_str()),
            ("SOURCE", "files"),
            ("FILES_DIR", &from.dir),
            ("NEW_SITE", "1"),
            ("SITE_URL", &url),
            ("RELEASE", &release),
            ("HEALTH_PATH", health_path.as_str()),
            ("HEALTH_TEXT", health_text.unwrap_or("")),
        ];
        let script = restore_script("restore", target, &vars)?;
        self.swap_job(Swap { kind: "backup.restore", what, backup: from.backup }, target, script, None, ctl).await
    }

    /// Downloads backup `id` into `folder` on this computer: its release
    /// and shared/ as tar files, its database as SQL, each SHA-256-checked.
    pub async fn download(&self, id: BackupId, folder: &Path, ctl: &Control) -> Result<Downloaded> {
        let backup = self.finished(id)?;
        let site = self.site_record(&backup.domain)?;
        let server = self.server_record(site.server.as_str())?;
        std::fs::create_dir_all(folder).map_err(|e| Error::LocalFile {
            path: folder.to_owned(),
            what: "making".into(),
            detail: e.to_string(),
        })?;
        let exported = self.export(&backup, &site, &server, ctl).await?;
        let result = self.fetch(&backup, &server, &exported, folder, ctl).await;
        self.unexport(&backup, &site, &server).await;
        let files = result?;
        Ok(Downloaded { backup: id, folder: folder.display().to_string(), files })
    }

    /// backup.sh's export on the backup's server: where the files are.
    async fn export(
        &self,
        b: &BackupRecord,
        site: &SiteRecord,
        server: &ServerRecord,
        ctl: &Control,
    ) -> Result<String> {
        let id = b.id.to_string();
        let vars = [
            ("BACKUP_ID", id.as_str()),
            ("FILES_SNAPSHOT", b.files_snapshot.as_deref().unwrap_or("")),
            ("DB_SNAPSHOT", b.db_snapshot.as_deref().unwrap_or("")),
            ("SOURCE_RELEASE", b.release.as_deref().unwrap_or("")),
        ];
        let report = self.backup_step("export", site, server, &vars, ctl).await?;
        report.value("dir").map(str::to_owned).ok_or_else(|| Error::Internal("the export named no folder".into()))
    }

    /// Removes an export from its server (best effort: the next export of
    /// the same backup replaces it).
    async fn unexport(&self, b: &BackupRecord, site: &SiteRecord, server: &ServerRecord) {
        let id = b.id.to_string();
        let script = backup_script("unexport", Some(site), &[("BACKUP_ID", &id)]);
        let password = self.repo_password(server, false);
        let done = async {
            let (script, password) = (script?, password?);
            let target = self.target(server, true).await?;
            let (limit, input) = (self.pool.config().command_timeout, Some(secret_input(&password)));
            self.script_on(server, &target, &script, ("a cleanup", input), limit, "removing an export").await
        };
        if let Err(e) = done.await {
            tracing::warn!(error = %e, "could not remove the export of backup {id}");
        }
    }

    /// The export's files from `server` into `folder` (names of PARTS the
    /// backup has).
    async fn fetch(
        &self,
        b: &BackupRecord,
        server: &ServerRecord,
        exported: &str,
        folder: &Path,
        ctl: &Control,
    ) -> Result<Vec<String>> {
        let mut got = vec![];
        for name in parts_of(b) {
            let local = folder.join(name);
            Transfers(self.0).download_file(server.name.as_str(), &format!("{exported}/{name}"), &local, ctl).await?;
            got.push(local.display().to_string());
        }
        Ok(got)
    }

    /// The export from the source server, through a folder of this
    /// computer (removed after), into the target server's inbox.
    async fn carry(
        &self,
        b: &BackupRecord,
        exported: &str,
        from: &ServerRecord,
        target: &SiteRecord,
        to: &ServerRecord,
        ctl: &Control,
    ) -> Result<String> {
        let local = tempfile::Builder::new().prefix("restore-").tempdir_in(&self.data_dir).map_err(|e| {
            Error::LocalFile { path: self.data_dir.clone(), what: "a folder in".into(), detail: e.to_string() }
        })?;
        self.fetch(b, from, exported, local.path(), ctl).await?;
        let parts: Vec<&'static str> = parts_of(b).collect();
        self.upload_into_inbox(target, to, local.path(), &parts, &b.id.to_string(), ctl).await
    }

    /// `parts` of folder `local` into a new root-only inbox (named
    /// `label`, a number) on the target site's server: the inbox's path.
    async fn upload_into_inbox(
        &self,
        target: &SiteRecord,
        to: &ServerRecord,
        local: &Path,
        parts: &[&'static str],
        label: &str,
        ctl: &Control,
    ) -> Result<String> {
        let inbox = self.backup_step("inbox", target, to, &[("BACKUP_ID", label)], ctl).await?;
        let inbox =
            inbox.value("dir").map(str::to_owned).ok_or_else(|| Error::Internal("the inbox named no folder".into()))?;
        for name in parts {
            let path: PathBuf = local.join(name);
            Transfers(self.0).upload_file(to.name.as_str(), &path, &format!("{inbox}/{name}"), ctl).await?;
        }
        Ok(inbox)
    }

    /// One backup.sh action as its own job; what it reported.
    async fn backup_step(
        &self,
        action: &'static str,
        site: &SiteRecord,
        server: &ServerRecord,
        vars: &[(&'static str, &str)],
        ctl: &Control,
    ) -> Result<Report> {
        let password = self.repo_password(server, action == "inbox")?;
        let kind = format!("backup.{action}");
        let job = self.start_web_job(&kind, site.domain.as_str(), server, Scope::Site(site.domain.to_string()), ctl)?;
        let script = backup_script(action, Some(site), vars)?;
        let mut transcript = Transcript::default();
        let input = Some(secret_input(&password));
        let (report, result) = self.run_script(server, &script, input, &job, &mut transcript, &mut |_| {}).await;
        self.end_web_job(&job, &transcript, result.as_ref().err()).await?;
        result.map(|()| report)
    }
}

/// Where a restore from files takes them, and how they are named.
struct Files {
    dir: String,
    /// A number: the backup's id, or the upload's time.
    label: String,
    backup: Option<BackupId>,
}

fn parts_of(b: &BackupRecord) -> impl Iterator<Item = &'static str> + '_ {
    PARTS.into_iter().filter(move |p| *p != "database.sql" || b.db_snapshot.is_some())
}
