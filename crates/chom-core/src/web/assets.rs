//! Everything CHOM runs on a server, embedded at build time from the
//! top-level `assets/remote/`, where an operator can audit it in one
//! folder. The nginx vhost and PHP-FPM pool come from `vhost.rs`.

macro_rules! remote {
    ($file:literal) => {
        include_str!(concat!(env!("CARGO_MANIFEST_DIR"), "/../../assets/remote/", $file))
    };
}

/// Helpers every script starts with: the run's token, events, services, files.
pub const COMMON: &str = remote!("common.sh");
/// The site layout: owners and modes, checks, the conversion of older sites.
pub const LAYOUT: &str = remote!("layout.sh");
pub const DEPLOY: &str = remote!("deploy.sh");
pub const SITE: &str = remote!("site.sh");
pub const SETUP: &str = remote!("setup.sh");
pub const SETUP_FINISH: &str = remote!("setup-finish.sh");
pub const SSL: &str = remote!("ssl.sh");
pub const WP_INSTALL: &str = remote!("wp-install.sh");
