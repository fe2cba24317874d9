//! Where a site lives on its server, and the names derived from its domain.

use serde::{Deserialize, Serialize};

use crate::validate::DomainName;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
#[serde(rename_all = "lowercase")]
pub enum SiteKind {
    Static,
    Wordpress,
    Laravel,
}

impl SiteKind {
    pub const ALL: [SiteKind; 3] = [SiteKind::Static, SiteKind::Wordpress, SiteKind::Laravel];

    pub fn as_str(self) -> &'static str {
        match self {
            SiteKind::Static => "static",
            SiteKind::Wordpress => "wordpress",
            SiteKind::Laravel => "laravel",
        }
    }

    pub fn parse(s: &str) -> Option<SiteKind> {
        match s {
            "static" => Some(SiteKind::Static),
            "wordpress" => Some(SiteKind::Wordpress),
            "laravel" => Some(SiteKind::Laravel),
            _ => None,
        }
    }

    pub fn uses_php(self) -> bool {
        self != SiteKind::Static
    }

    /// Paths kept in `shared/` and linked into every release.
    pub fn shared_paths(self) -> &'static [&'static str] {
        match self {
            SiteKind::Static => &[],
            SiteKind::Wordpress => &["wp-config.php", "wp-content/uploads"],
            SiteKind::Laravel => &[".env", "storage"],
        }
    }

    /// Paths a deploy always sends, never linked from the live release on
    /// the server: what is shared, and what the site's user writes inside
    /// a release (root never reads what that user could have planted).
    /// The same lists, with owners and modes, are in
    /// `assets/remote/layout.sh`.
    pub fn never_reused(self, dashboard_updates: bool) -> &'static [&'static str] {
        match (self, dashboard_updates) {
            (SiteKind::Static, _) => &[],
            (SiteKind::Wordpress, false) => &["wp-config.php", "wp-content/uploads"],
            (SiteKind::Wordpress, true) => &[
                "wp-config.php",
                "wp-content/uploads",
                "wp-content/plugins",
                "wp-content/themes",
                "wp-content/upgrade",
            ],
            (SiteKind::Laravel, _) => &[".env", "storage", "bootstrap/cache"],
        }
    }

    /// The folder of a release nginx serves.
    pub fn web_root(self) -> &'static str {
        match self {
            SiteKind::Laravel => "/public",
            _ => "",
        }
    }
}

/// Paths and names of one site on its server (owners and modes:
/// `assets/remote/layout.sh`).
#[derive(Debug, Clone)]
pub struct SiteLayout {
    pub domain: String,
    /// `/var/www/DOMAIN`: releases/, shared/, current, acme/, .chom/
    pub base: String,
    /// Linux user the site's PHP runs as (and what it writes); also its
    /// database and database user name.
    pub user: String,
    /// The group through which the site's user and nginx read its code.
    pub web_group: String,
}

impl SiteLayout {
    /// A new site's: names derived from its domain.
    pub fn new_site(domain: &DomainName) -> SiteLayout {
        SiteLayout::existing(domain, &site_user(domain.as_str()))
    }

    /// A site's with the user it was made with (older versions of CHOM
    /// derived the name differently; the cache keeps it).
    pub fn existing(domain: &DomainName, user: &str) -> SiteLayout {
        let d = domain.as_str();
        let web_group = match user.strip_prefix('w') {
            Some(rest) => format!("n{rest}"),
            None => format!("n_{}", &user[..user.len().min(30)]),
        };
        SiteLayout { domain: d.to_owned(), base: format!("/var/www/{d}"), user: user.to_owned(), web_group }
    }
}

/// `w_` and the domain with `.` as `_` and `-` as `__` (labels neither
/// start nor end with `-`, so two domains never flatten alike), at most
/// 32 characters (the Linux limit); a long domain keeps its start and gets
/// a hash suffix so two long domains never share a user. Site create also
/// refuses a name that exists on the server.
fn site_user(domain: &str) -> String {
    let flat: String = domain
        .chars()
        .map(|c| match c {
            '-' => "__".to_owned(),
            c if c.is_ascii_alphanumeric() => c.to_string(),
            _ => "_".to_owned(),
        })
        .collect();
    let name = format!("w_{flat}");
    if name.len() <= 32 {
        return name;
    }
    // FNV-1a: stable across builds and platforms, no extra dependency.
    let hash = domain.bytes().fold(0xcbf29ce484222325u64, |h, b| (h ^ u64::from(b)).wrapping_mul(0x100000001b3));
    format!("{}_{:08x}", &name[..23], hash as u32)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn site_users_are_valid_linux_names_and_distinct() {
        let d = |s: &str| SiteLayout::new_site(&DomainName::parse(s).unwrap()).user;
        assert_eq!(d("example.com"), "w_example_com");
        assert_eq!(d("my-shop.example.co.uk"), "w_my__shop_example_co_uk");
        assert_ne!(d("a-b.com"), d("a.b.com"));
        assert_ne!(d("a--b.com"), d("a-b.com"));
        let layout = SiteLayout::new_site(&DomainName::parse("a-b.com").unwrap());
        assert_eq!((layout.user.as_str(), layout.web_group.as_str()), ("w_a__b_com", "n_a__b_com"));
        let a = d("averyveryverylongsubdomain.example.com");
        let b = d("averyveryverylongsubdomain.example.org");
        assert!(a.len() <= 32 && b.len() <= 32, "{a} {b}");
        assert_ne!(a, b);
        for u in [a, b, d("1password.com")] {
            assert!(u.starts_with("w_") && u.bytes().all(|c| c.is_ascii_alphanumeric() || c == b'_'), "{u}");
        }
    }
}
