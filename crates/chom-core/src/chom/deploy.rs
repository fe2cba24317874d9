//! Deploys and rollbacks: a release streamed into `releases/<id>`, shared
//! paths linked, hooks run, a health check through nginx on the new
//! release, then the atomic switch of `current`. One at a time per site,
//! by a lock on the server.

use serde::Serialize;

use crate::db::{DeployState, ServerRecord, SiteRecord};
use crate::error::{Error, Result};
use crate::ids::{DeployId, JobId};
use crate::jobs::{Control, Scope};
use crate::validate::{HealthPath, ReleaseId, SitePath, ValidationError};
use crate::web::script::Report;
use crate::web::{RemoteEvent, Script, WebError};

use super::outcome;
use super::remote::Transcript;
use super::sites::{layout_of, site_script};
use super::source::{check_source, DeploySource};
use super::upload::{hash_folder, LiveManifest, Prepared};
use super::{Ctx, Deploys};

use crate::web::assets::DEPLOY as DEPLOY_SCRIPT;

#[derive(Debug, Clone, Serialize, serde::Deserialize)]
pub struct DeployOptions {
    pub source: DeploySource,
    pub build_hook: Option<String>,
    pub post_hook: Option<String>,
    pub health_path: String,
    /// Text the health check's page must contain.
    pub health_text: Option<String>,
    /// Releases kept on the server, the live one and the one before it included.
    pub keep: u32,
}

impl DeployOptions {
    pub fn new(source: DeploySource) -> DeployOptions {
        DeployOptions { source, build_hook: None, post_hook: None, health_path: "/".into(), health_text: None, keep: 5 }
    }

    /// Everything that can be checked here, before a site or a release is
    /// made on the server; the health check's path comes back typed.
    pub(super) fn check(&self) -> Result<HealthPath> {
        for hook in [&self.build_hook, &self.post_hook].into_iter().flatten() {
            SitePath::parse(hook)?;
        }
        let health_path = HealthPath::parse(&self.health_path)?;
        check_health_text(self.health_text.as_deref())?;
        if self.keep < 2 {
            return Err(Error::Usage(
                "keep at least 2 releases (the live one and the one before, for rollback)".into(),
            ));
        }
        check_source(&self.source)?;
        Ok(health_path)
    }
}

/// The text a health check's page must contain: one short line.
pub(super) fn check_health_text(text: Option<&str>) -> Result<()> {
    match text {
        Some(t) if t.is_empty() || t.len() > 200 || t.chars().any(char::is_control) => {
            Err(ValidationError::new("expected text", t, "1-200 characters on one line").into())
        }
        _ => Ok(()),
    }
}

#[derive(Debug, Clone, Serialize)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
pub struct DeployReport {
    pub job_id: JobId,
    pub release: ReleaseId,
    pub previous: Option<ReleaseId>,
    pub health_status: Option<String>,
    pub releases: Vec<ReleaseId>,
    /// Files streamed, and files the server linked from the live release
    /// because they were unchanged.
    #[cfg_attr(feature = "specta", specta(type = u32))]
    pub sent_files: usize,
    #[cfg_attr(feature = "specta", specta(type = u32))]
    pub reused_files: usize,
}

#[derive(Debug, Clone, Serialize)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
pub struct Releases {
    pub current: Option<ReleaseId>,
    /// Newest first.
    pub releases: Vec<ReleaseId>,
    /// Half-made releases a change that did not finish left (the next
    /// deploy removes them).
    pub partial: Vec<ReleaseId>,
    /// Who holds the site's lock on the server, when a change still runs.
    pub busy: Option<String>,
}

/// What every attempt of one deploy shares.
#[derive(Clone, Copy)]
struct Deployment<'a> {
    site: &'a SiteRecord,
    server: &'a ServerRecord,
    opts: &'a DeployOptions,
    health_path: &'a HealthPath,
}

/// One deploy attempt: its row, its release and the one serving before.
struct Attempt<'a> {
    deploy_id: DeployId,
    release: &'a str,
    previous: Option<&'a str>,
}

/// The releases a script's report lists; a name that is no release id
/// (nothing CHOM made) is left out.
fn releases_of(report: &Report) -> Releases {
    let ids =
        |key| report.value(key).unwrap_or("").split_whitespace().filter_map(|r| ReleaseId::parse(r).ok()).collect();
    let current = report.value("current").and_then(|c| ReleaseId::parse(c).ok());
    let (releases, partial) = (ids("releases"), ids("partial"));
    let busy = report.value("busy").map(|b| if b.trim().is_empty() { "another CHOM".to_owned() } else { b.to_owned() });
    Releases { current, releases, partial, busy }
}

impl Deploys<'_> {
    /// Deploys a release. It goes live only after its health check passed;
    /// on any failure before the switch, the release that served keeps
    /// serving, and the deploy row says how far it got. A folder sends only
    /// what differs from the live release; if the files the server would
    /// link have changed there since, it deploys once more in full.
    ///
    /// `cancel` stops it: before the switch the release never goes live;
    /// after it (the live check, a post-deploy hook) the new release stays
    /// live. Either way the deploy row says which.
    pub async fn deploy(&self, domain: &str, opts: &DeployOptions, ctl: &Control) -> Result<DeployReport> {
        let site = self.site_record(domain)?;
        if !site.enabled {
            return Err(WebError::Disabled { site: site.domain.to_string() }.into());
        }
        let health_path = opts.check()?;
        let server = self.server_record(site.server.as_str())?;
        // The folder is hashed while the live release's manifest is read.
        let prepared = match &opts.source {
            DeploySource::Folder(folder) => {
                let (live, hashed) = tokio::join!(self.live_manifest(&site, &server), hash_folder(folder.clone()));
                Prepared { live, hashed: Some(hashed?) }
            }
            _ => Prepared::default(),
        };
        let deployment = Deployment { site: &site, server: &server, opts, health_path: &health_path };
        let (result, retry_full) = self.try_deploy(&deployment, &prepared, ctl).await?;
        if retry_full && !ctl.cancel.is_cancelled() {
            tracing::warn!(site = %site.domain, "reused files did not match on the server; deploying in full");
            let full = Prepared { live: LiveManifest::default(), hashed: prepared.hashed };
            return self.try_deploy(&deployment, &full, ctl).await?.0;
        }
        result
    }

    /// The releases on the server and the live one; updates the cache.
    pub async fn site_releases(&self, domain: &str) -> Result<Releases> {
        let site = self.site_record(domain)?;
        let server = self.server_record(site.server.as_str())?;
        let r = self.read_releases(&site, &server).await?;
        self.db.set_site_release(site.id, r.current.as_deref())?;
        Ok(r)
    }

    /// Switches `current` back to `to` (default: the release before the
    /// live one). Instant: no upload, no build.
    pub async fn rollback(&self, domain: &str, to: Option<&ReleaseId>, ctl: &Control) -> Result<Releases> {
        let site = self.site_record(domain)?;
        let to = to.map(ReleaseId::as_str);
        let server = self.server_record(site.server.as_str())?;
        let detail = format!("{} to {}", site.domain, to.unwrap_or("previous"));
        let job = self.start_web_job("rollback", &detail, &server, Scope::Site(site.domain.to_string()), ctl)?;
        let deploy_id = self.db.insert_deploy(site.id, job.id, "rollback", to.unwrap_or("previous"), "")?;
        let script = self.deploy_script("rollback", &site)?.var("TO", to.unwrap_or(""))?;
        let mut transcript = Transcript::default();
        let (report, result) = self.run_script(&server, &script, None, &job, &mut transcript, &mut |_| {}).await;
        let now = releases_of(&report);
        match &result {
            Ok(()) => {
                self.db.set_site_release(site.id, now.current.as_deref())?;
                if let Some(cur) = &now.current {
                    self.db.set_deploy_release(deploy_id, cur)?;
                }
                self.db.finish_deploy(deploy_id, DeployState::Live, "")?;
            }
            Err(e) => self.db.finish_deploy(deploy_id, DeployState::Failed, &e.to_string())?,
        }
        self.end_web_job(&job, &transcript, result.as_ref().err()).await?;
        let detail = match &result {
            Ok(()) => format!("now serving {}", now.current.as_deref().unwrap_or("?")),
            Err(e) => e.to_string(),
        };
        self.audit("rollback", Some(server.name.as_str()), Some(site.domain.as_str()), result.is_ok(), &detail);
        result?;
        Ok(now)
    }
}

impl Ctx {
    /// deploy.sh for `action`; the vhost goes along, for a site whose
    /// nginx config predates the layout.
    pub(super) fn deploy_script(&self, action: &'static str, site: &SiteRecord) -> Result<Script> {
        Ok(site_script(action, DEPLOY_SCRIPT, &layout_of(site), site.kind, site.php_version.as_deref())?
            .var("ACTION", action)?
            .var("VHOST", &self.vhost_for(site))?
            .var("DASHBOARD_UPDATES", if site.dashboard_updates { "1" } else { "0" })?)
    }

    /// One attempt. The flag asks for a full upload: files reused from the
    /// live release did not match on the server.
    async fn try_deploy(
        &self,
        deployment: &Deployment<'_>,
        prepared: &Prepared,
        ctl: &Control,
    ) -> Result<(Result<DeployReport>, bool)> {
        let Deployment { site, server, opts, health_path } = *deployment;
        let detail = format!("{} from {}", site.domain, opts.source.describe());
        let job = self.start_web_job("deploy", &detail, server, Scope::Site(site.domain.to_string()), ctl)?;
        let input = super::resume::Input::Deploy { domain: site.domain.to_string(), options: opts.clone() };
        self.db.set_job_input(job.id, &input.to_json())?;
        let release = ReleaseId::new_now();
        let deploy_id = self.db.insert_deploy(site.id, job.id, "deploy", &release, &opts.source.describe())?;
        let script = self
            .deploy_script("deploy", site)?
            .var("RELEASE", &release)?
            .var("BUILD_HOOK", opts.build_hook.as_deref().unwrap_or(""))?
            .var("POST_HOOK", opts.post_hook.as_deref().unwrap_or(""))?
            .var("HEALTH_PATH", health_path.as_str())?
            .var("HEALTH_TEXT", opts.health_text.as_deref().unwrap_or(""))?
            .var("KEEP", &opts.keep.to_string())?;
        let upload = match self
            .upload(&opts.source, site.kind.never_reused(site.dashboard_updates), script, &job, prepared)
            .await
        {
            Ok(v) => v,
            Err(e) => {
                self.db.finish_deploy(deploy_id, DeployState::Failed, &e.to_string())?;
                self.end_web_job(&job, &Transcript::default(), Some(&e)).await?;
                return Ok((Err(e), false));
            }
        };
        let mut transcript = Transcript::default();
        let db = self.db.clone();
        let mut on_event = |e: &RemoteEvent| {
            if let RemoteEvent::Step(step) = e {
                if let Err(err) = db.deploy_step(deploy_id, step) {
                    tracing::warn!(error = %err, "could not record a deploy step");
                }
            }
        };
        let (report, result) =
            self.run_script(server, &upload.script, upload.input, &job, &mut transcript, &mut on_event).await;
        let retry_full = result.is_err() && report.value("reuse_failed").is_some();
        let previous = report.value("previous").filter(|p| *p != "none").and_then(|p| ReleaseId::parse(p).ok());
        let attempt = Attempt { deploy_id, release: &release, previous: previous.as_deref() };
        let result = self.settle_deploy(site, server, attempt, &report, result).await;
        self.end_web_job(&job, &transcript, result.as_ref().err()).await?;
        let detail = match &result {
            Ok(()) => format!(
                "release {release} live (was {}); {} files sent, {} reused",
                previous.as_deref().unwrap_or("none"),
                upload.sent_files,
                upload.reused_files
            ),
            Err(e) => e.to_string(),
        };
        self.audit("deploy", Some(server.name.as_str()), Some(site.domain.as_str()), result.is_ok(), &detail);
        let report = result.map(|()| DeployReport {
            job_id: job.id,
            release,
            previous,
            health_status: report.value("health").map(str::to_owned),
            releases: releases_of(&report).releases,
            sent_files: upload.sent_files,
            reused_files: upload.reused_files,
        });
        Ok((report, retry_full))
    }

    /// Records what a deploy ended as, in the deploy row and the site's
    /// live release (asking the server what serves when the script could
    /// not say), and returns the error that says what is serving now.
    async fn settle_deploy(
        &self,
        site: &SiteRecord,
        server: &ServerRecord,
        attempt: Attempt<'_>,
        report: &Report,
        result: Result<()>,
    ) -> Result<()> {
        let deploy_id = attempt.deploy_id;
        let ended = outcome::Attempt {
            site: site.domain.as_str(),
            server: server.name.as_str(),
            release: attempt.release,
            previous: attempt.previous,
        };
        // A new connection if need be: the cache says what really happened.
        let now = match outcome::needs_asking(report, &result) {
            true => self.read_releases(site, server).await.ok().and_then(|r| r.current),
            false => None,
        };
        let o = outcome::outcome(&ended, report, result, now.as_deref());
        if let Some(live) = &o.live {
            self.db.set_site_release(site.id, Some(live))?;
        }
        self.db.finish_deploy(deploy_id, o.state, &o.message)?;
        o.result
    }

    pub(super) async fn read_releases(&self, site: &SiteRecord, server: &ServerRecord) -> Result<Releases> {
        let script = self.deploy_script("releases", site)?;
        let (report, _) = self.read_script(server, &script, "reading the releases").await?;
        Ok(releases_of(&report))
    }
}
