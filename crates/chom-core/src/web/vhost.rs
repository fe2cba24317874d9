//! The nginx vhost and PHP-FPM pool of a site, rendered from validated
//! values only (domains, the derived site user, a PHP version).
//!
//! The vhost serves `current`, except for requests from the server itself
//! that carry the site's preview token (`X-Chom-Preview`, root's own on the
//! server: the script puts it in place of `@@CHOM_PREVIEW@@`): those get
//! `next`, the release being deployed, so its health check goes through
//! the real nginx and PHP-FPM before it is switched live. nginx follows a
//! link inside the site only to what the link's owner owns, so a link the
//! site's user planted never serves another site's files.

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
    let var = format!("$chom_root_{}", l.user);
    let mut names = vec![l.domain.as_str()];
    names.extend(spec.aliases.iter().map(|a| a.as_str()));
    let names = names.join(" ");
    let web_root = spec.kind.web_root();
    let fallback = match spec.kind {
        SiteKind::Static => "=404",
        SiteKind::Wordpress => "/index.php?$args",
        SiteKind::Laravel => "/index.php?$query_string",
    };
    let php = match spec.kind {
        SiteKind::Static => String::new(),
        _ => format!(
            "
    location ~ \\.php$ {{
        try_files $fastcgi_script_name =404;
        include fastcgi_params;
        fastcgi_param SCRIPT_FILENAME $realpath_root$fastcgi_script_name;
        fastcgi_param DOCUMENT_ROOT $realpath_root;
        fastcgi_pass unix:{sock};
    }}
",
            sock = fpm_socket(l)
        ),
    };
    // HTTP-01 challenges, served from outside the releases (also while a
    // site redirects to HTTPS).
    let acme = format!(
        "    location ^~ /.well-known/acme-challenge/ {{
        root {base}/acme;
        default_type text/plain;
    }}
",
        base = l.base
    );
    let body = format!(
        "    server_name {names};
    root {var}{web_root};
    index index.html index.php;
    access_log /var/log/nginx/{domain}.access.log;
    error_log /var/log/nginx/{domain}.error.log;
    client_max_body_size 64m;
    disable_symlinks if_not_owner from=$document_root;

{acme}    location / {{
        try_files $uri $uri/ {fallback};
    }}
    location ~ /\\.(?!well-known) {{
        deny all;
    }}
{php}",
        domain = l.domain,
    );
    let map = format!(
        "# Managed by CHOM for {domain}: edits here are replaced on the next change.
map \"$remote_addr:$http_x_chom_preview\" {var} {{
    default {base}/current;
    \"127.0.0.1:@@CHOM_PREVIEW@@\" {base}/next;
}}
",
        domain = l.domain,
        base = l.base,
    );
    if !spec.ssl {
        return format!("{map}\nserver {{\n    listen 80;\n    listen [::]:80;\n{body}}}\n");
    }
    format!(
        "{map}
server {{
    listen 80;
    listen [::]:80;
    server_name {names};
{acme}    location / {{
        return 301 https://$host$request_uri;
    }}
}}

server {{
    listen 443 ssl http2;
    listen [::]:443 ssl http2;
    ssl_certificate /etc/letsencrypt/live/{domain}/fullchain.pem;
    ssl_certificate_key /etc/letsencrypt/live/{domain}/privkey.pem;
    ssl_protocols TLSv1.2 TLSv1.3;
{body}}}
",
        domain = l.domain,
    )
}

pub fn fpm_pool(layout: &SiteLayout) -> String {
    format!(
        "; Managed by CHOM for {domain}: edits here are replaced on the next change.
[{user}]
user = {user}
group = {user}
listen = {sock}
listen.owner = www-data
listen.group = www-data
listen.mode = 0660
pm = ondemand
pm.max_children = 10
pm.process_idle_timeout = 30s
pm.max_requests = 500
php_admin_value[upload_max_filesize] = 64M
php_admin_value[post_max_size] = 64M
",
        domain = layout.domain,
        user = layout.user,
        sock = fpm_socket(layout),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

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
