//! Where a site lives on its server, and the names derived from its domain.

use serde::{Deserialize, Serialize};

use crate::validate::DomainName;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum SiteKind {
    Static,
    Wordpress,
    Laravel,
}

impl SiteKind {
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

    /// The folder of a release nginx serves.
    pub fn web_root(self) -> &'static str {
        match self {
            SiteKind::Laravel => "/public",
            _ => "",
        }
    }
}

/// Paths and names of one site on its server.
#[derive(Debug, Clone)]
pub struct SiteLayout {
    pub domain: String,
    /// `/var/www/DOMAIN`: releases/, shared/, current, acme/, .chom/
    pub base: String,
    /// Linux user the site's files and PHP run as; also its database
    /// and database user name.
    pub user: String,
}

impl SiteLayout {
    pub fn of(domain: &DomainName) -> SiteLayout {
        let d = domain.as_str();
        SiteLayout { domain: d.to_owned(), base: format!("/var/www/{d}"), user: site_user(d) }
    }
}

/// `w_` and the domain with `.`/`-` as `_`, at most 32 characters (the
/// Linux limit); a long domain keeps its start and gets a hash suffix so
/// two long domains never share a user.
fn site_user(domain: &str) -> String {
    let flat: String = domain.chars().map(|c| if c.is_ascii_alphanumeric() { c } else { '_' }).collect();
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
        let d = |s: &str| SiteLayout::of(&DomainName::parse(s).unwrap()).user;
        assert_eq!(d("example.com"), "w_example_com");
        assert_eq!(d("my-shop.example.co.uk"), "w_my_shop_example_co_uk");
        let a = d("averyveryverylongsubdomain.example.com");
        let b = d("averyveryverylongsubdomain.example.org");
        assert!(a.len() <= 32 && b.len() <= 32, "{a} {b}");
        assert_ne!(a, b);
        for u in [a, b, d("1password.com")] {
            assert!(u.starts_with("w_") && u.bytes().all(|c| c.is_ascii_alphanumeric() || c == b'_'), "{u}");
        }
    }
}
