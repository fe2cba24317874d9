//! A new site with its first release in one go: create, deploy, and for
//! WordPress, finish the install with an admin whose password goes to the
//! keyring. The app and the CLI both come through here.

use serde::Serialize;

use crate::error::{Error, Result};
use crate::jobs::{Control, Scope};
use crate::validate::{DomainName, UnixUser, ValidationError};
use crate::web::config::{self, admin_account};
use crate::web::{Script, SiteKind};

use super::deploy::{DeployOptions, DeployReport};
use super::remote::Transcript;
use super::sites::{SiteCreated, SiteInput};
use super::{defaults, Sites};

use crate::web::assets::WP_INSTALL;
/// Where WordPress comes from by default; its `.sha1` is checked.
pub const WORDPRESS_URL: &str = "https://wordpress.org/latest.tar.gz";

#[derive(Debug, Clone)]
pub struct WordpressSetup {
    pub title: String,
    pub admin_user: String,
    pub admin_email: String,
}

impl WordpressSetup {
    /// What the operator chose, the core's defaults for the rest: the
    /// domain as the title, `admin`, and an address at the domain.
    pub fn new(domain: &str, title: Option<String>, admin_user: Option<String>, admin_email: Option<String>) -> Self {
        // As the site will be named (lower case, IDN in ASCII); a domain
        // that does not parse is refused by the create itself.
        let domain = DomainName::parse(domain).map_or_else(|_| domain.to_owned(), |d| d.as_str().to_owned());
        let domain = domain.as_str();
        WordpressSetup {
            title: title.unwrap_or_else(|| defaults::wordpress_title(domain)),
            admin_user: admin_user.unwrap_or_else(|| defaults::DEFAULT_WP_ADMIN.to_owned()),
            admin_email: admin_email.unwrap_or_else(|| defaults::wordpress_email(domain)),
        }
    }
}

#[derive(Debug, Clone, Serialize)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
pub struct SiteLaunch {
    pub created: SiteCreated,
    pub deploy: Option<DeployReport>,
    /// The WordPress admin user. Its password is only in the OS keyring
    /// (service `chom-desktop`, account `site-admin:DOMAIN`), for the
    /// operator to read with the OS's own keyring tool: CHOM never prints it.
    pub wordpress_admin: Option<String>,
}

fn check_wordpress(wp: &WordpressSetup) -> Result<()> {
    UnixUser::parse(&wp.admin_user)
        .map_err(|_| ValidationError::new("admin user", &wp.admin_user, "use letters, digits, '.', '_' or '-'"))?;
    let email_ok = wp.admin_email.split_once('@').is_some_and(|(u, d)| !u.is_empty() && d.contains('.'))
        && wp.admin_email.len() <= 254
        && !wp.admin_email.chars().any(|c| c.is_whitespace() || c.is_control());
    if !email_ok {
        return Err(
            ValidationError::new("admin email", &wp.admin_email, "use an address such as you@example.com").into()
        );
    }
    if wp.title.is_empty() || wp.title.len() > 200 || wp.title.chars().any(char::is_control) {
        return Err(ValidationError::new("site title", &wp.title, "1-200 characters on one line").into());
    }
    Ok(())
}

impl Sites<'_> {
    /// Creates the site and, when given, deploys its first release; a
    /// WordPress site is then installed. Stops at the first failure: the
    /// site then exists with its placeholder page (or the release that
    /// deployed), which the error says. `cancel` stops the create or the first
    /// deploy.
    pub async fn launch_site(
        &self,
        input: &SiteInput,
        first: Option<&DeployOptions>,
        wordpress: Option<&WordpressSetup>,
        ctl: &Control,
    ) -> Result<SiteLaunch> {
        if let Some(wp) = wordpress {
            if input.kind != SiteKind::Wordpress {
                return Err(Error::Usage("WordPress settings are for WordPress sites only".into()));
            }
            check_wordpress(wp)?;
            if first.is_none() {
                return Err(Error::Usage("a WordPress install needs its files: give a source".into()));
            }
        }
        if let Some(opts) = first {
            opts.check()?;
        }
        let created = self.create_site(input, ctl).await?;
        let domain = created.site.domain.to_string();
        let deploy = match first {
            Some(opts) => Some(self.deploys().deploy(&domain, opts, ctl).await?),
            None => None,
        };
        let wordpress_admin = match wordpress {
            Some(wp) => Some(self.install_wordpress(&domain, wp, ctl).await?),
            None => None,
        };
        Ok(SiteLaunch { created, deploy, wordpress_admin })
    }

    /// Runs WordPress's installer on the live release.
    pub async fn install_wordpress(&self, domain: &str, wp: &WordpressSetup, ctl: &Control) -> Result<String> {
        check_wordpress(wp)?;
        let site = self.site_record(domain)?;
        let server = self.server_record(site.server.as_str())?;
        let password = config::password(24);
        self.secrets.set(&admin_account(site.domain.as_str()), &password)?;
        let job = self.start_web_job(
            "wordpress.install",
            site.domain.as_str(),
            &server,
            Scope::Site(site.domain.to_string()),
            ctl,
        )?;
        let script = Script::new("wordpress-install", WP_INSTALL)
            .var("DOMAIN", site.domain.as_str())?
            .var("TITLE", &wp.title)?
            .var("ADMIN_USER", &wp.admin_user)?
            .var("ADMIN_EMAIL", &wp.admin_email)?;
        let input: crate::ssh::Input =
            Box::new(std::io::Cursor::new(zeroize::Zeroizing::new(password.expose().as_bytes().to_vec())));
        let mut transcript = Transcript::default();
        let (report, result) = self.run_script(&server, &script, Some(input), &job, &mut transcript, &mut |_| {}).await;
        if result.is_err() || !report.unchanged().is_empty() {
            // Not installed by this run: its password is not the admin's.
            let _ = self.secrets.delete(&admin_account(site.domain.as_str()));
        }
        self.end_web_job(&job, &transcript, result.as_ref().err()).await?;
        let detail = result.as_ref().err().map_or_else(|| format!("admin user {}", wp.admin_user), ToString::to_string);
        self.audit(
            "wordpress.install",
            Some(server.name.as_str()),
            Some(site.domain.as_str()),
            result.is_ok(),
            &detail,
        );
        result?;
        Ok(wp.admin_user.clone())
    }
}
