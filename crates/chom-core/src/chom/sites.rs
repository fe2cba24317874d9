//! Sites: create (with placement), list, show, enable, disable, delete.
//! The server is changed first, by one script that undoes its own partial
//! work on failure; the cache follows only what the server confirmed.

use serde::Serialize;

use crate::db::{DeployRecord, NewSite, ServerRecord, SiteRecord};
use crate::error::{Error, Result};
use crate::ids::{JobId, SiteId};
use crate::jobs::{Control, Scope};
use crate::remedy::{Listing, Remedy};
use crate::validate::{DomainName, PhpVersion};
use crate::web::config::{self, admin_account, db_account};
use crate::web::placement::{self, Candidate};
use crate::web::vhost::{self, VhostSpec};
use crate::web::{Script, SiteKind, SiteLayout, WebError};

use super::remote::Transcript;
use super::view::SiteView;
use super::{Ctx, Sites};

pub(super) use crate::web::assets::SITE as SITE_SCRIPT;

/// Where an existing site lives on its server, with the user it was made with.
pub(super) fn layout_of(site: &SiteRecord) -> SiteLayout {
    SiteLayout::existing(&site.domain, &site.site_user)
}

/// A script that works in a site's folders, with the variables every
/// such script reads (layout.sh).
pub(super) fn site_script(
    name: &'static str,
    body: &'static str,
    layout: &SiteLayout,
    kind: SiteKind,
    php: Option<&str>,
) -> Result<Script> {
    Ok(Script::in_site(name, body)
        .var("DOMAIN", &layout.domain)?
        .var("BASE", &layout.base)?
        .var("SITE_USER", &layout.user)?
        .var("WEB_GROUP", &layout.web_group)?
        .var("KIND", kind.as_str())?
        .var("PHP", php.unwrap_or(""))?)
}

#[derive(Debug, Clone, serde::Deserialize)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
pub struct SiteInput {
    pub domain: String,
    pub kind: SiteKind,
    /// `None`: placed on the server with the most free capacity.
    pub server: Option<String>,
    pub php: Option<String>,
    pub aliases: Vec<String>,
}

#[derive(Debug, Clone, Serialize)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
pub struct SiteCreated {
    pub job_id: JobId,
    pub site: SiteView,
    /// Why this server, when CHOM chose it.
    pub placement: Option<String>,
}

#[derive(Debug, Clone, Serialize)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
pub struct SiteDetail {
    pub site: SiteView,
    pub deploys: Vec<DeployRecord>,
}

impl Sites<'_> {
    pub fn list_sites(&self, server: Option<&str>) -> Result<Vec<SiteView>> {
        Ok(self.db.list_sites(server)?.into_iter().map(SiteView::of).collect())
    }

    pub fn site_detail(&self, domain: &str) -> Result<SiteDetail> {
        let site = self.site_record(domain)?;
        let deploys = self.db.deploys(site.id, 20)?;
        Ok(SiteDetail { site: SiteView::of(site), deploys })
    }

    /// The server a new site goes to, and why.
    pub fn place_site(&self) -> Result<(ServerRecord, String)> {
        let counts = self.db.site_counts()?;
        let probes = self.db.latest_probes()?;
        let facts_of: std::collections::HashMap<&str, &crate::db::ProbeFacts> =
            probes.iter().filter(|p| p.ok).filter_map(|p| Some((p.server.as_str(), p.facts.as_ref()?))).collect();
        let servers = self.db.list_servers(&Default::default())?;
        let mut cands = Vec::new();
        for s in &servers {
            let facts = facts_of.get(s.name.as_str()).copied();
            if let (Some(f), Some(_)) = (facts, &s.key) {
                cands.push(Candidate {
                    name: s.name.to_string(),
                    disk_free: f.disk_free,
                    mem_available: f.mem_available,
                    sites: counts.get(&s.id).copied().unwrap_or(0),
                });
            }
        }
        let choice = placement::choose(&cands).ok_or_else(|| {
            WebError::Placement(
                "no server to place the site on: none has a successful latest probe. Probe the fleet \
                 or choose the server"
                    .into(),
            )
        })?;
        Ok((self.server_record(&choice.name)?, choice.explanation))
    }

    /// Creates the site on its server: user, folders, database, PHP-FPM
    /// pool, nginx vhost (checked with `nginx -t` before the reload) and a
    /// placeholder release, so it answers at once. `cancel` stops it, and
    /// the server undoes what the create had made.
    pub async fn create_site(&self, input: &SiteInput, ctl: &Control) -> Result<SiteCreated> {
        let domain = DomainName::parse(&input.domain)?;
        let aliases: Vec<DomainName> = input.aliases.iter().map(|a| DomainName::parse(a)).collect::<Result<_, _>>()?;
        for (i, a) in aliases.iter().enumerate() {
            if *a == domain || aliases[..i].contains(a) {
                return Err(Error::Usage(format!("alias {a} is given twice (the site's domain counts): give it once")));
            }
        }
        let php = match (input.kind.uses_php(), &input.php) {
            (false, Some(_)) => return Err(Error::Usage("a static site has no PHP: give no PHP version".into())),
            (false, None) => None,
            (true, v) => Some(PhpVersion::parse(v.as_deref().unwrap_or(PhpVersion::DEFAULT))?),
        };
        let existing = self.db.list_sites(None)?;
        for d in std::iter::once(&domain).chain(&aliases) {
            if let Some(other) = existing.iter().find(|s| &s.domain == d || s.aliases.contains(d)) {
                return Err(Error::AlreadyExists {
                    what: "site domain",
                    name: format!("{d} (used by {})", other.domain),
                });
            }
        }
        let (server, placement) = match &input.server {
            Some(name) => (self.server_record(name)?, None),
            None => {
                let (s, why) = self.place_site()?;
                (s, Some(why))
            }
        };
        let layout = SiteLayout::new_site(&domain);
        if let Some(other) = existing.iter().find(|s| s.site_user == layout.user) {
            return Err(Error::AlreadyExists {
                what: "site user",
                name: format!("{} (the user of {})", layout.user, other.domain),
            });
        }
        let job = self.start_web_job("site.create", domain.as_str(), &server, Scope::Site(domain.to_string()), ctl)?;
        let release = crate::validate::ReleaseId::new_now();
        let mut spec_site = SiteRecord {
            id: SiteId(0),
            server_id: server.id,
            domain: domain.clone(),
            server: server.name.clone(),
            kind: input.kind,
            php_version: php.as_ref().map(|p| p.to_string()),
            aliases: aliases.clone(),
            site_user: layout.user.clone(),
            enabled: true,
            current_release: Some(release.clone()),
            ssl_expires_at: None,
            ssl_checked_at: None,
            created_at: chrono::Utc::now(),
            updated_at: chrono::Utc::now(),
            dashboard_updates: false,
        };
        // The password goes to the keyring before the server has it, so it
        // can never exist only on the server; a failed create removes it.
        let db_pass = input.kind.uses_php().then(|| config::password(32));
        if let Some(p) = &db_pass {
            self.secrets.set(&db_account(domain.as_str()), p)?;
        }
        let script = site_script("site", SITE_SCRIPT, &layout, input.kind, php.as_ref().map(|p| p.as_str()))?
            .var("ACTION", "create")?
            .var("VHOST", &self.vhost_for(&spec_site))?
            .var("POOL", &if input.kind.uses_php() { vhost::fpm_pool(&layout) } else { String::new() })?
            .var("RELEASE", &release)?;
        let secrets = config::site_secrets(input.kind, &layout, db_pass.as_ref())
            .map_err(|e| Error::Internal(format!("building the site's config: {e}")))?;
        let mut transcript = Transcript::default();
        let (report, result) =
            self.run_script(&server, &script, Some(secrets), &job, &mut transcript, &mut |_| {}).await;
        let result = match result {
            Err(Error::Cancelled) => Err(WebError::Cancelled(format!(
                "cancelled during step {}: {domain} was not created (the server undoes what the create had made)",
                report.last_step().unwrap_or("start")
            ))
            .into()),
            r => r,
        };
        if result.is_ok() {
            spec_site.id = self.db.insert_site(&NewSite {
                server_id: server.id,
                domain: &domain,
                kind: input.kind,
                php_version: spec_site.php_version.as_deref(),
                aliases: &aliases,
                site_user: &layout.user,
            })?;
            self.db.set_site_release(spec_site.id, Some(&release))?;
        } else if db_pass.is_some() {
            let _ = self.secrets.delete(&db_account(domain.as_str()));
        }
        self.end_web_job(&job, &transcript, result.as_ref().err()).await?;
        let detail = match &result {
            Ok(()) => format!(
                "{} site; {}",
                input.kind.as_str(),
                placement.as_deref().unwrap_or("server chosen by the operator")
            ),
            Err(e) => e.to_string(),
        };
        self.audit("site.create", Some(server.name.as_str()), Some(domain.as_str()), result.is_ok(), &detail);
        result?;
        Ok(SiteCreated { job_id: job.id, site: SiteView::of(self.site_record(domain.as_str())?), placement })
    }

    pub async fn set_site_enabled(&self, domain: &str, enabled: bool, ctl: &Control) -> Result<SiteView> {
        let site = self.site_record(domain)?;
        let server = self.server_record(site.server.as_str())?;
        let action = if enabled { "enable" } else { "disable" };
        let scope = Scope::Site(site.domain.to_string());
        let job = self.start_web_job(&format!("site.{action}"), site.domain.as_str(), &server, scope, ctl)?;
        let script = site_script("site", SITE_SCRIPT, &layout_of(&site), site.kind, site.php_version.as_deref())?
            .var("ACTION", action)?;
        let mut transcript = Transcript::default();
        let (_, result) = self.run_script(&server, &script, None, &job, &mut transcript, &mut |_| {}).await;
        if result.is_ok() {
            self.db.set_site_enabled(site.id, enabled)?;
        }
        self.end_web_job(&job, &transcript, result.as_ref().err()).await?;
        let detail = result.as_ref().err().map_or_else(String::new, ToString::to_string);
        self.audit(
            &format!("site.{action}"),
            Some(server.name.as_str()),
            Some(site.domain.as_str()),
            result.is_ok(),
            &detail,
        );
        result?;
        Ok(SiteView::of(self.site_record(domain)?))
    }

    /// Deletes the site from its server (vhost, pool, database, certificate,
    /// files, user), then from the cache and the keyring.
    pub async fn delete_site(&self, domain: &str, ctl: &Control) -> Result<()> {
        let site = self.site_record(domain)?;
        let server = self.server_record(site.server.as_str())?;
        let job = self.start_web_job(
            "site.delete",
            site.domain.as_str(),
            &server,
            Scope::Site(site.domain.to_string()),
            ctl,
        )?;
        let script = site_script("site", SITE_SCRIPT, &layout_of(&site), site.kind, site.php_version.as_deref())?
            .var("ACTION", "delete")?;
        let mut transcript = Transcript::default();
        let (_, result) = self.run_script(&server, &script, None, &job, &mut transcript, &mut |_| {}).await;
        if result.is_ok() {
            self.db.delete_site(site.id)?;
            for account in [db_account(site.domain.as_str()), admin_account(site.domain.as_str())] {
                if let Err(e) = self.secrets.delete(&account) {
                    tracing::warn!(error = %e, "could not remove a site password from the keyring");
                }
            }
        }
        self.end_web_job(&job, &transcript, result.as_ref().err()).await?;
        let detail = result.as_ref().err().map_or_else(String::new, ToString::to_string);
        self.audit("site.delete", Some(server.name.as_str()), Some(site.domain.as_str()), result.is_ok(), &detail);
        result
    }
}

impl Ctx {
    pub(super) fn site_record(&self, domain: &str) -> Result<SiteRecord> {
        let d = DomainName::parse(domain)?;
        self.db.site(d.as_str())?.ok_or_else(|| Error::NotFound {
            what: "site",
            name: d.to_string(),
            remedy: Remedy::List { what: Listing::Sites },
        })
    }

    pub(super) fn vhost_for(&self, site: &SiteRecord) -> String {
        let layout = layout_of(site);
        vhost::nginx(&VhostSpec {
            layout: &layout,
            kind: site.kind,
            aliases: &site.aliases,
            ssl: site.ssl_expires_at.is_some(),
        })
    }
}
