//! Everything CHOM runs on a server, embedded at build time from the
//! top-level `assets/remote/`, where an operator can audit it in one
//! folder: the scripts, and the templates of what they write (filled in
//! by `vhost.rs`).

macro_rules! remote {
    ($file:literal) => {
        include_str!(concat!(env!("CARGO_MANIFEST_DIR"), "/../../assets/remote/", $file))
    };
}

/// Helpers every script starts with: the run's token, events, services, files.
pub const COMMON: &str = remote!("common.sh");
/// The site layout: owners and modes, checks, the conversion of older sites.
pub const LAYOUT: &str = remote!("layout.sh");
/// deploy.sh after the releases' helpers it shares with restore.sh.
pub const DEPLOY: &str = concat!(remote!("release.sh"), "\n", remote!("deploy.sh"));
pub const SITE: &str = remote!("site.sh");
pub const SETUP: &str = remote!("setup.sh");
pub const SETUP_FINISH: &str = remote!("setup-finish.sh");
pub const SSL: &str = remote!("ssl.sh");
pub const WP_INSTALL: &str = remote!("wp-install.sh");
pub const TRANSFER: &str = remote!("transfer.sh");
/// backup.sh and restore.sh after the repository's helpers (restic.sh).
pub const BACKUP: &str = concat!(remote!("restic.sh"), "\n", remote!("backup.sh"));
pub const RESTORE: &str = concat!(remote!("release.sh"), "\n", remote!("restic.sh"), "\n", remote!("restore.sh"));
/// One file or folder of a backup put back beside the site's own.
pub const RESTORE_PATH: &str = concat!(remote!("restic.sh"), "\n", remote!("restore-path.sh"));

pub mod templates {
    pub const NGINX_MAP: &str = remote!("templates/nginx-map.conf");
    pub const NGINX_SITE: &str = remote!("templates/nginx-site.conf");
    pub const NGINX_ACME: &str = remote!("templates/nginx-acme.conf");
    pub const NGINX_PHP: &str = remote!("templates/nginx-php.conf");
    pub const NGINX_HTTP: &str = remote!("templates/nginx-http.conf");
    pub const NGINX_HTTPS: &str = remote!("templates/nginx-https.conf");
    pub const PHP_FPM_POOL: &str = remote!("templates/php-fpm-pool.conf");
    pub const BACKUP_RUN: &str = remote!("templates/backup-run.sh");
}
