//! Changes to where a site's user may write on its server. `site repair`
//! brings a site to CHOM's layout (a site made by an earlier version is
//! converted; anything that looks tampered stops it and is reported, never
//! trusted) and its nginx config and PHP-FPM pool to what CHOM writes now;
//! a deploy does the same conversion first. Dashboard updates let a
//! WordPress site's user write its plugins and themes.

use serde::Serialize;

use super::view::SiteView;
use crate::error::{Error, Result};
use crate::ids::JobId;
use crate::jobs::{Control, Scope};
use crate::web::vhost;

use super::remote::{change_detail, Transcript};
use super::sites::{layout_of, site_script, SITE_SCRIPT};
use super::Sites;

#[derive(Debug, Clone, Serialize)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
pub struct RepairReport {
    pub job_id: JobId,
    pub changed: Vec<String>,
    pub unchanged: Vec<String>,
}

impl Sites<'_> {
    pub async fn repair_site(&self, domain: &str, ctl: &Control) -> Result<RepairReport> {
        let site = self.site_record(domain)?;
        let server = self.server_record(site.server.as_str())?;
        let layout = layout_of(&site);
        let job = self.start_web_job(
            "site.repair",
            site.domain.as_str(),
            &server,
            Scope::Site(site.domain.to_string()),
            ctl,
        )?;
        let pool = if site.kind.uses_php() { vhost::fpm_pool(&layout) } else { String::new() };
        let script = site_script("site", SITE_SCRIPT, &layout, site.kind, site.php_version.as_deref())?
            .var("ACTION", "repair")?
            .var("VHOST", &self.vhost_for(&site))?
            .var("POOL", &pool)?;
        let mut transcript = Transcript::default();
        let (report, result) = self.run_script(&server, &script, None, &job, &mut transcript, &mut |_| {}).await;
        self.end_web_job(&job, &transcript, result.as_ref().err()).await?;
        let changed: Vec<String> = report.changed().into_iter().map(str::to_owned).collect();
        let detail = change_detail(&result, &changed);
        self.audit("site.repair", Some(server.name.as_str()), Some(site.domain.as_str()), result.is_ok(), &detail);
        result?;
        Ok(RepairReport {
            job_id: job.id,
            changed,
            unchanged: report.unchanged().into_iter().map(str::to_owned).collect(),
        })
    }

    /// Turns WordPress updates from the site's dashboard on or off. On, the
    /// site's user may write `wp-content/plugins`, `themes` and `upgrade`
    /// of the live release and of each new one (a deploy still brings the
    /// release's own); off (the default), they are root's in every release.
    pub async fn set_dashboard_updates(&self, domain: &str, on: bool, ctl: &Control) -> Result<SiteView> {
        let mut site = self.site_record(domain)?;
        if site.kind != crate::web::SiteKind::Wordpress {
            return Err(Error::Usage(format!(
                "{} is a {} site: dashboard updates are for WordPress sites",
                site.domain,
                site.kind.as_str()
            )));
        }
        let server = self.server_record(site.server.as_str())?;
        let state = if on { "on" } else { "off" };
        let scope = Scope::Site(site.domain.to_string());
        let job =
            self.start_web_job("site.dashboard-updates", &format!("{} {state}", site.domain), &server, scope, ctl)?;
        site.dashboard_updates = on;
        let script = self.deploy_script("updates", &site)?;
        let mut transcript = Transcript::default();
        let (_, result) = self.run_script(&server, &script, None, &job, &mut transcript, &mut |_| {}).await;
        if result.is_ok() {
            self.db.set_site_dashboard_updates(site.id, on)?;
        }
        self.end_web_job(&job, &transcript, result.as_ref().err()).await?;
        let detail = result.as_ref().map_or_else(ToString::to_string, |()| format!("dashboard updates {state}"));
        self.audit(
            "site.dashboard-updates",
            Some(server.name.as_str()),
            Some(site.domain.as_str()),
            result.is_ok(),
            &detail,
        );
        result?;
        Ok(SiteView::of(self.site_record(domain)?))
    }
}
