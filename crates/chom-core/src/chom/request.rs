//! What a front end asks for, as it asks it (the CLI's flags, the app's
//! forms): one input type per operation, turned here into what the services
//! run, so both front ends get the same defaults and the same checks.

use serde::Deserialize;

use crate::error::{Error, Result};
use crate::jobs::Control;
use crate::web::SiteKind;

use super::deploy::{DeployOptions, DeployReport};
use super::sites::SiteInput;
use super::source::{DeploySource, SourceChoice};
use super::wordpress::{SiteLaunch, WordpressSetup, WORDPRESS_URL};
use super::{Deploys, Sites};

/// A release to deploy: where it comes from and how it is checked.
#[derive(Debug, Clone, Default, Deserialize)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
pub struct ReleaseRequest {
    pub source: SourceChoice,
    /// A script in the release run (as the site's user) before the health check.
    pub build_hook: Option<String>,
    /// A script in the release run after it went live.
    pub post_hook: Option<String>,
    /// The page the health check asks for (default `/`).
    pub health_path: Option<String>,
    /// Text that page must contain (default: any 2xx or 3xx answer).
    pub health_text: Option<String>,
    /// Releases kept on the server (default 5).
    pub keep: Option<u32>,
}

impl ReleaseRequest {
    /// The deploy's options, or `None` when no source was given.
    pub fn options(&self, kind: SiteKind) -> Result<Option<DeployOptions>> {
        Ok(self.source.resolve(kind)?.map(|source| self.with(source)))
    }

    fn with(&self, source: DeploySource) -> DeployOptions {
        let defaults = DeployOptions::new(source);
        DeployOptions {
            build_hook: self.build_hook.clone(),
            post_hook: self.post_hook.clone(),
            health_path: self.health_path.clone().unwrap_or(defaults.health_path.clone()),
            health_text: self.health_text.clone(),
            keep: self.keep.unwrap_or(defaults.keep),
            ..defaults
        }
    }
}

/// WordPress's install: what the operator chose (the core's defaults for
/// the rest) and, when no release is given, where the server downloads it.
#[derive(Debug, Clone, Default, Deserialize)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
pub struct WordpressChoice {
    pub title: Option<String>,
    pub admin_user: Option<String>,
    pub admin_email: Option<String>,
    /// Default: wordpress.org's latest.tar.gz.
    pub url: Option<String>,
    /// Default: read from `URL.sha1` next to it.
    pub sha1: Option<String>,
}

/// A new site with, when given, its first release.
#[derive(Debug, Clone, Deserialize)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
pub struct SiteRequest {
    pub site: SiteInput,
    pub release: ReleaseRequest,
    /// Read for WordPress sites only.
    #[serde(default)]
    pub wordpress: WordpressChoice,
}

impl SiteRequest {
    /// The first release and WordPress's install: a WordPress site without
    /// a release of its own gets the download.
    pub fn plan(&self) -> Result<(Option<DeployOptions>, Option<WordpressSetup>)> {
        let kind = self.site.kind;
        let wp = &self.wordpress;
        let mut first = self.release.options(kind)?;
        let download = wp.url.is_some() || wp.sha1.is_some();
        if download && (kind != SiteKind::Wordpress || first.is_some()) {
            return Err(Error::Usage(
                "a download URL and SHA-1 are for a WordPress site the server downloads (no folder, tarball or git)"
                    .into(),
            ));
        }
        if kind != SiteKind::Wordpress {
            return Ok((first, None));
        }
        if first.is_none() {
            let url = wp.url.clone().unwrap_or_else(|| WORDPRESS_URL.into());
            first = Some(self.release.with(DeploySource::Download { url, sha1: wp.sha1.clone(), strip: 1 }));
        }
        let setup =
            WordpressSetup::new(&self.site.domain, wp.title.clone(), wp.admin_user.clone(), wp.admin_email.clone());
        Ok((first, Some(setup)))
    }
}

impl Sites<'_> {
    /// Creates the site as asked: see `SiteRequest::plan` and `launch_site`.
    pub async fn launch(&self, request: &SiteRequest, ctl: &Control) -> Result<SiteLaunch> {
        let (first, wordpress) = request.plan()?;
        self.launch_site(&request.site, first.as_ref(), wordpress.as_ref(), ctl).await
    }
}

impl Deploys<'_> {
    /// Deploys the release asked for as the site's next.
    pub async fn deploy_release(&self, domain: &str, request: &ReleaseRequest, ctl: &Control) -> Result<DeployReport> {
        let kind = self.site_record(domain)?.kind;
        let opts = request.options(kind)?.ok_or_else(|| {
            Error::Usage("give the release: a folder or a .tar.gz on this computer, or a git repository".into())
        })?;
        self.deploy(domain, &opts, ctl).await
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn request(kind: SiteKind) -> SiteRequest {
        SiteRequest {
            site: SiteInput { domain: "Blog.Example".into(), kind, server: None, php: None, aliases: vec![] },
            release: ReleaseRequest::default(),
            wordpress: WordpressChoice::default(),
        }
    }

    #[test]
    fn wordpress_without_a_release_is_downloaded_with_the_defaults() {
        let (first, wp) = request(SiteKind::Wordpress).plan().unwrap();
        let first = first.unwrap();
        assert!(matches!(&first.source, DeploySource::Download { url, sha1: None, strip: 1 } if url == WORDPRESS_URL));
        assert_eq!((first.health_path.as_str(), first.keep), ("/", 5));
        let wp = wp.unwrap();
        assert_eq!((wp.title.as_str(), wp.admin_user.as_str()), ("blog.example", "admin"));
        assert_eq!(wp.admin_email, "admin@blog.example");
    }

    #[test]
    fn a_static_site_without_a_release_keeps_its_placeholder() {
        assert!(matches!(request(SiteKind::Static).plan().unwrap(), (None, None)));
    }

    #[test]
    fn a_download_url_with_a_folder_or_for_another_kind_is_refused() {
        let mut r = request(SiteKind::Wordpress);
        r.wordpress.url = Some("https://example.com/wp.tar.gz".into());
        r.release.source.folder = Some("/tmp".into());
        assert!(matches!(r.plan(), Err(Error::Usage(_))));
        let mut r = request(SiteKind::Static);
        r.wordpress.sha1 = Some("00".into());
        assert!(matches!(r.plan(), Err(Error::Usage(_))));
    }

    #[test]
    fn a_git_ref_alone_is_no_source_and_a_url_alone_deploys_main() {
        let mut r = request(SiteKind::Laravel);
        r.release.source.git_ref = Some("v1".into());
        assert!(r.plan().is_err(), "a ref without its repository");
        r.release.source = SourceChoice { git_url: Some("https://example.com/app.git".into()), ..Default::default() };
        r.release.keep = Some(3);
        let first = r.plan().unwrap().0.unwrap();
        assert!(matches!(&first.source, DeploySource::Git { git_ref, .. } if git_ref.as_str() == "main"));
        assert_eq!(first.keep, 3);
    }
}
