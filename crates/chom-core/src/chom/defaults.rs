//! What a new site gets when the operator does not say, decided here once
//! for the CLI and the app (which shows these in its empty form).

use serde::Serialize;

use crate::validate::PhpVersion;
use crate::web::SiteKind;

/// The branch a git source deploys when none is named.
pub const DEFAULT_GIT_REF: &str = "main";
/// The WordPress admin user when none is named.
pub const DEFAULT_WP_ADMIN: &str = "admin";

#[derive(Debug, Clone, Serialize)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
pub struct SiteDefaults {
    /// Every kind of site, in the order a form offers them.
    pub kinds: Vec<&'static str>,
    pub php_version: &'static str,
    pub git_ref: &'static str,
    pub wordpress_admin: &'static str,
}

pub fn site_defaults() -> SiteDefaults {
    SiteDefaults {
        kinds: SiteKind::ALL.iter().map(|k| k.as_str()).collect(),
        php_version: PhpVersion::DEFAULT,
        git_ref: DEFAULT_GIT_REF,
        wordpress_admin: DEFAULT_WP_ADMIN,
    }
}

/// The WordPress site title when none is given: its domain.
pub(super) fn wordpress_title(domain: &str) -> String {
    domain.to_owned()
}

/// The WordPress admin's address when none is given: at the site's domain.
pub(super) fn wordpress_email(domain: &str) -> String {
    format!("admin@{domain}")
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::chom::WordpressSetup;

    #[test]
    fn one_set_of_defaults_for_every_front_end() {
        let d = site_defaults();
        assert_eq!(d.kinds, ["static", "wordpress", "laravel"]);
        assert!(d.kinds.iter().all(|k| SiteKind::parse(k).is_some()));
        assert!(PhpVersion::parse(d.php_version).is_ok());
        let wp = WordpressSetup::new("blog.example.test", None, None, None);
        assert_eq!((wp.title.as_str(), wp.admin_user.as_str()), ("blog.example.test", DEFAULT_WP_ADMIN));
        assert_eq!(wp.admin_email, "admin@blog.example.test");
        let wp = WordpressSetup::new("Bücher.Example", None, None, None);
        assert_eq!(wp.admin_email, "admin@xn--bcher-kva.example", "as the site is named");
        let wp =
            WordpressSetup::new("blog.example.test", Some("Blog".into()), Some("ed".into()), Some("e@x.test".into()));
        assert_eq!((wp.title.as_str(), wp.admin_user.as_str(), wp.admin_email.as_str()), ("Blog", "ed", "e@x.test"));
    }
}
