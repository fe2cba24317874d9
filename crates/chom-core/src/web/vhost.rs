//! The nginx vhost and PHP-FPM pool of a site: the templates in
//! `assets/remote/templates/`, filled with validated values only (domains,
//! the derived site user, a PHP version).
//!
//! The vhost serves `current`, except for requests from the server itself
//! that carry the site's preview token (`X-Chom-Preview`, root's own on the
//! server: the script puts it in place of `@@CHOM_PREVIEW@@`): those get
//! `next`, the release being deployed, so its health check goes through
//! the real nginx and PHP-FPM before it is switched live. nginx follows a
//! link inside the site only to what the link's owner owns, so a link the
//! site's user planted never serves another site's files.

use super::assets::templates;
use super::layout::{SiteKind, SiteLayout};
use crate::validate::DomainName;

pub struct VhostSpec<'a> {
    pub layout: &'a SiteLayout,
    pub kind: SiteKind,
    pub aliases: &'a [DomainName],
    /// Serve HTTPS with the certificate certbot keeps under /etc/letsencrypt/live/DOMAIN.
    pub ssl: bool,
}

pub fn nginx_path(layout: &SiteLayout) -> String {
    format!("/etc/nginx/sites-available/chom-{}.conf", layout.domain)
}

pub fn nginx_enabled_path(layout: &SiteLayout) -> String {
    format!("/etc/nginx/sites-enabled/chom-{}.conf", layout.domain)
}

pub fn fpm_pool_path(layout: &SiteLayout, php: &str) -> String {
    format!("/etc/php/{php}/fpm/pool.d/chom-{}.conf", layout.user)
}

pub fn fpm_socket(layout: &SiteLayout) -> String {
    format!("/run/php/chom-{}.sock", layout.user)
}

pub fn nginx(spec: &VhostSpec<'_>) -> String {
    let l = spec.layout;
    let root_var = format!("$chom_root_{}", l.user);
    let mut names = vec![l.domain.as_str()];
    names.extend(spec.aliases.iter().map(|a| a.as_str()));
    let names = names.join(" ");
    let fallback = match spec.kind {
        SiteKind::Static => "=404",
        SiteKind::Wordpress => "/index.php?$args",
        SiteKind::Laravel => "/index.php?$query_string",
    };
    let php = match spec.kind {
        SiteKind::Static => String::new(),
        _ => fill(templates::NGINX_PHP, &[("socket", &fpm_socket(l))]),
    };
    let acme = fill(templates::NGINX_ACME, &[("base", &l.base)]);
    let site = fill(
        templates::NGINX_SITE,
        &[
            ("names", &names),
            ("root_var", &root_var),
            ("web_root", spec.kind.web_root()),
            ("domain", &l.domain),
            ("acme", &acme),
            ("fallback", fallback),
            ("php", &php),
        ],
    );
    let map = fill(templates::NGINX_MAP, &[("domain", &l.domain), ("root_var", &root_var), ("base", &l.base)]);
    let server = if spec.ssl { templates::NGINX_HTTPS } else { templates::NGINX_HTTP };
    fill(server, &[("map", &map), ("site", &site), ("names", &names), ("acme", &acme), ("domain", &l.domain)])
}

pub fn fpm_pool(layout: &SiteLayout) -> String {
    fill(
        templates::PHP_FPM_POOL,
        &[("domain", &layout.domain), ("user", &layout.user), ("socket", &fpm_socket(layout))],
    )
}

/// The runner cron starts for a site's scheduled backup: it sends the
/// backup script `token` (hex) and the repository's password.
pub fn backup_runner(layout: &SiteLayout, token: &str) -> String {
    debug_assert!(token.bytes().all(|b| b.is_ascii_hexdigit()));
    fill(templates::BACKUP_RUN, &[("domain", &layout.domain), ("token", token)])
}

/// A template with each `{{name}}` replaced by its value (validated names
/// and paths only; a value never holds a placeholder of its own).
fn fill(template: &str, values: &[(&str, &str)]) -> String {
    let mut out = template.to_owned();
    for (name, value) in values {
        out = out.replace(&format!("{{{{{name}}}}}"), value);
    }
    debug_assert!(!out.contains("{{"), "a placeholder left in {out}");
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    /// What CHOM writes, pinned: a change to a template or its filling
    /// shows here as a diff to review (`INSTA_UPDATE=always` accepts it).
    #[test]
    fn vhosts_and_pools_as_written() {
        let layout = SiteLayout::new_site(&DomainName::parse("shop.example.com").unwrap());
        let aliases = [DomainName::parse("www.shop.example.com").unwrap()];
        for kind in [SiteKind::Static, SiteKind::Wordpress, SiteKind::Laravel] {
            for ssl in [false, true] {
                let conf = nginx(&VhostSpec { layout: &layout, kind, aliases: &aliases, ssl });
                let https = if ssl { "https" } else { "http" };
                insta::assert_snapshot!(format!("vhost_{}_{https}", kind.as_str()), conf);
            }
        }
        insta::assert_snapshot!("php_fpm_pool", fpm_pool(&layout));
    }

    #[test]
    fn vhost_names_every_domain_and_serves_php_through_the_site_pool() {
        let layout = SiteLayout::new_site(&DomainName::parse("shop.example.com").unwrap());
        let aliases = [DomainName::parse("www.shop.example.com").unwrap()];
        let spec = VhostSpec { layout: &layout, kind: SiteKind::Laravel, aliases: &aliases, ssl: false };
        let conf = nginx(&spec);
        assert!(conf.contains("server_name shop.example.com www.shop.example.com;"), "{conf}");
        assert!(conf.contains("root $chom_root_w_shop_example_com/public;"), "{conf}");
        assert!(conf.contains("fastcgi_pass unix:/run/php/chom-w_shop_example_com.sock;"), "{conf}");
        assert!(!conf.contains("443"));
        assert!(conf.contains("\"127.0.0.1:@@CHOM_PREVIEW@@\" /var/www/shop.example.com/next;"), "{conf}");
        let ssl = nginx(&VhostSpec { ssl: true, ..spec });
        assert!(ssl.contains("ssl_certificate /etc/letsencrypt/live/shop.example.com/fullchain.pem;"), "{ssl}");
    }
}
