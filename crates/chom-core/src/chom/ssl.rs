//! Certificates: certbot on the server (HTTP-01 through the site's nginx),
//! renewed there by certbot's timer or cron; the expiry read back and kept
//! in the cache, with a warning under 14 days.

use std::path::PathBuf;

use chrono::{DateTime, TimeZone, Utc};
use serde::Serialize;

use crate::error::{Error, Result};
use crate::jobs::{Control, Scope};
use crate::validate::{HttpsUrl, ValidationError};
use crate::web::script::Report;
use crate::web::Script;

use super::sites::{layout_of, site_script};

use super::remote::Transcript;
use super::Sites;

use crate::web::assets::SSL as SSL_SCRIPT;
pub const LETSENCRYPT: &str = "https://acme-v02.api.letsencrypt.org/directory";
pub const LETSENCRYPT_STAGING: &str = "https://acme-staging-v02.api.letsencrypt.org/directory";
/// Below this many days left, a certificate is reported as expiring.
pub const WARN_DAYS: i64 = 14;

#[derive(Debug, Clone, Default, serde::Deserialize)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
#[serde(rename_all = "snake_case")]
pub enum AcmeDirectory {
    #[default]
    LetsEncrypt,
    Staging,
    /// Another ACME server, with the CA that signs its HTTPS certificate
    /// when that is not a public one.
    Custom {
        url: String,
        ca_bundle: Option<PathBuf>,
    },
}

#[derive(Debug, Clone, Serialize)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
pub struct SslStatus {
    pub domain: String,
    pub server: String,
    pub expires_at: Option<DateTime<Utc>>,
    #[cfg_attr(feature = "specta", specta(type = Option<u32>))]
    pub days_left: Option<i64>,
    /// Under `WARN_DAYS` left, or expired.
    pub expiring: bool,
    /// Read from the server now (false: the cached value, server unreachable).
    pub fresh: bool,
    pub error: Option<String>,
}

fn expiry_of(report: &Report) -> Option<DateTime<Utc>> {
    report.value("expires")?.parse::<i64>().ok().and_then(|s| Utc.timestamp_opt(s, 0).single())
}

/// Whole days until `expires` (negative once expired).
pub fn days_left(expires: DateTime<Utc>) -> i64 {
    (expires - Utc::now()).num_days()
}

/// Whether a certificate with `days` left is to be warned about.
pub fn is_expiring(days: i64) -> bool {
    days < WARN_DAYS
}

fn status(
    domain: &str,
    server: &str,
    expires_at: Option<DateTime<Utc>>,
    fresh: bool,
    error: Option<String>,
) -> SslStatus {
    let days_left = expires_at.map(days_left);
    SslStatus {
        domain: domain.to_owned(),
        server: server.to_owned(),
        expires_at,
        days_left,
        expiring: days_left.is_some_and(is_expiring),
        fresh,
        error,
    }
}

impl Sites<'_> {
    pub async fn issue_certificate(
        &self,
        domain: &str,
        acme: &AcmeDirectory,
        email: Option<&str>,
        ctl: &Control,
    ) -> Result<SslStatus> {
        let mut site = self.site_record(domain)?;
        let (url, ca) = match acme {
            AcmeDirectory::LetsEncrypt => (LETSENCRYPT.to_owned(), None),
            AcmeDirectory::Staging => (LETSENCRYPT_STAGING.to_owned(), None),
            AcmeDirectory::Custom { url, ca_bundle } => {
                HttpsUrl::parse_as("ACME directory", url)?;
                let ca = match ca_bundle {
                    Some(p) => {
                        let pem = std::fs::read_to_string(p)
                            .map_err(|e| Error::Usage(format!("cannot read the CA bundle {}: {e}", p.display())))?;
                        if !pem.contains("-----BEGIN CERTIFICATE-----") {
                            return Err(Error::Usage(format!("{} holds no PEM certificate", p.display())));
                        }
                        Some(pem)
                    }
                    None => None,
                };
                (url.clone(), ca)
            }
        };
        if let Some(e) = email {
            if !e.contains('@') || e.chars().any(|c| c.is_whitespace() || c.is_control()) {
                return Err(ValidationError::new("email", e, "use an address such as you@example.com").into());
            }
        }
        let server = self.server_record(site.server.as_str())?;
        let job =
            self.start_web_job("ssl.issue", site.domain.as_str(), &server, Scope::Site(site.domain.to_string()), ctl)?;
        let layout = layout_of(&site);
        let names: Vec<&str> =
            std::iter::once(site.domain.as_str()).chain(site.aliases.iter().map(|a| a.as_str())).collect();
        // The vhost with HTTPS, applied once the certificate exists.
        site.ssl_expires_at = Some(Utc::now());
        let script = site_script("ssl", SSL_SCRIPT, &layout, site.kind, site.php_version.as_deref())?
            .var("ACTION", "issue")?
            .var("NAMES", &names.join(" "))?
            .var("ACME_URL", &url)?
            .var("ACME_CA", ca.as_deref().unwrap_or(""))?
            .var("EMAIL", email.unwrap_or(""))?
            .var("VHOST", &self.vhost_for(&site))?;
        let mut transcript = Transcript::default();
        let (report, result) = self.run_script(&server, &script, None, &job, &mut transcript, &mut |_| {}).await;
        let expires = expiry_of(&report);
        if result.is_ok() {
            self.db.set_site_ssl(site.id, expires)?;
        }
        self.end_web_job(&job, &transcript, result.as_ref().err()).await?;
        let detail = match (&result, expires) {
            (Ok(()), Some(e)) => format!("certificate from {url}, expires {e}"),
            (Ok(()), None) => format!("certificate from {url}"),
            (Err(e), _) => e.to_string(),
        };
        self.audit("ssl.issue", Some(server.name.as_str()), Some(site.domain.as_str()), result.is_ok(), &detail);
        result?;
        Ok(status(site.domain.as_str(), server.name.as_str(), expires, true, None))
    }

    /// Certificate expiry of the given site (or every site), read from the
    /// servers; an unreachable server gives the cached value, marked stale.
    pub async fn certificate_status(&self, domain: Option<&str>) -> Result<Vec<SslStatus>> {
        let sites = match domain {
            Some(d) => vec![self.site_record(d)?],
            None => self.db.list_sites(None)?,
        };
        let mut out = Vec::with_capacity(sites.len());
        for site in sites {
            let server = self.server_record(site.server.as_str())?;
            let layout = layout_of(&site);
            let script = Script::new("ssl", SSL_SCRIPT)
                .var("ACTION", "status")?
                .var("DOMAIN", &layout.domain)?
                .var("BASE", &layout.base)?;
            let read = self.read_script(&server, &script, "reading the certificate").await;
            match read.map(|(report, _)| expiry_of(&report)) {
                Ok(expires) => {
                    self.db.set_site_ssl(site.id, expires)?;
                    out.push(status(site.domain.as_str(), server.name.as_str(), expires, true, None));
                }
                Err(e) => out.push(status(
                    site.domain.as_str(),
                    server.name.as_str(),
                    site.ssl_expires_at,
                    false,
                    Some(e.to_string()),
                )),
            }
        }
        Ok(out)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn under_fourteen_days_is_expiring() {
        let at = |days: i64| Some(Utc::now() + chrono::Duration::days(days) + chrono::Duration::hours(1));
        assert!(status("a.test", "s", at(3), true, None).expiring);
        assert!(status("a.test", "s", at(13), true, None).expiring);
        assert!(!status("a.test", "s", at(14), true, None).expiring);
        assert!(status("a.test", "s", at(-2), true, None).expiring, "an expired certificate warns too");
        let none = status("a.test", "s", None, true, None);
        assert!(!none.expiring && none.days_left.is_none());
    }
}
