//! Generated secrets and the site config files that carry them (Laravel's
//! `.env`, WordPress's `wp-config.php`), sent to the server inside a tar on
//! stdin, never on a command line, and zeroed here after use.

use std::io::Cursor;

use base64::Engine;
use rand::Rng;
use zeroize::Zeroizing;

use super::layout::{SiteKind, SiteLayout};
use crate::secret::Secret;
use crate::ssh::Input;

/// A password of `len` letters and digits (no quoting problems in SQL,
/// PHP or .env files), from the OS generator.
pub fn password(len: usize) -> Secret {
    let s: String =
        rand::rngs::OsRng.sample_iter(&rand::distributions::Alphanumeric).take(len).map(char::from).collect();
    Secret::new(s)
}

/// Keyring account of a site's database password.
pub fn db_account(domain: &str) -> String {
    format!("site-db:{domain}")
}

/// Keyring account of a server's backup repository password: the
/// server's name and a random part, so that two data directories naming a
/// server alike keep two entries. `legacy`: the name alone, as the first
/// backups had it.
pub fn backup_account(server: &str, legacy: bool) -> String {
    if legacy {
        format!("backup-repo:{server}")
    } else {
        format!("backup-repo:{server}:{:016x}", rand::random::<u64>())
    }
}

/// Keyring account of a WordPress site's admin password.
pub fn admin_account(domain: &str) -> String {
    format!("site-admin:{domain}")
}

fn laravel_env(layout: &SiteLayout, db_pass: &Secret) -> Zeroizing<String> {
    let mut key = Zeroizing::new([0u8; 32]);
    rand::RngCore::fill_bytes(&mut rand::rngs::OsRng, key.as_mut());
    let app_key = Zeroizing::new(base64::engine::general_purpose::STANDARD.encode(key.as_ref()));
    Zeroizing::new(format!(
        "APP_NAME={domain}
APP_ENV=production
APP_KEY=base64:{app_key}
APP_DEBUG=false
APP_URL=http://{domain}
LOG_CHANNEL=single
DB_CONNECTION=mysql
DB_HOST=localhost
DB_PORT=3306
DB_SOCKET=/run/mysqld/mysqld.sock
DB_DATABASE={user}
DB_USERNAME={user}
DB_PASSWORD={pass}
CACHE_DRIVER=file
SESSION_DRIVER=file
QUEUE_CONNECTION=sync
",
        domain = layout.domain,
        user = layout.user,
        app_key = app_key.as_str(),
        pass = db_pass.expose(),
    ))
}

fn wp_config(layout: &SiteLayout, db_pass: &Secret) -> Zeroizing<String> {
    // Salts: printable ASCII without quotes or backslashes (PHP single-quoted strings).
    let salt = || -> String {
        let mut rng = rand::rngs::OsRng;
        (0..64)
            .map(|_| loop {
                let c = rng.gen_range(33u8..127) as char;
                if c != '\'' && c != '\\' {
                    break c;
                }
            })
            .collect()
    };
    let names = [
        "AUTH_KEY",
        "SECURE_AUTH_KEY",
        "LOGGED_IN_KEY",
        "NONCE_KEY",
        "AUTH_SALT",
        "SECURE_AUTH_SALT",
        "LOGGED_IN_SALT",
        "NONCE_SALT",
    ];
    let salts: String = names.iter().map(|n| format!("define('{n}', '{}');\n", salt())).collect();
    Zeroizing::new(format!(
        "<?php
// Written by CHOM for {domain}. Kept in shared/, linked into every release.
define('DB_NAME', '{user}');
define('DB_USER', '{user}');
define('DB_PASSWORD', '{pass}');
define('DB_HOST', 'localhost');
define('DB_CHARSET', 'utf8mb4');
define('DB_COLLATE', '');
{salts}$table_prefix = 'wp_';
define('WP_DEBUG', false);
define('FS_METHOD', 'direct');
if (!defined('ABSPATH')) {{
    define('ABSPATH', __DIR__ . '/');
}}
require_once ABSPATH . 'wp-settings.php';
",
        domain = layout.domain,
        user = layout.user,
        pass = db_pass.expose(),
    ))
}

/// The tar a new site's script reads on stdin: `db.pass` and the files
/// for `shared/` (none for a static site).
pub fn site_secrets(kind: SiteKind, layout: &SiteLayout, db_pass: Option<&Secret>) -> std::io::Result<Input> {
    let mut tar = tar::Builder::new(Vec::new());
    let mut add = |path: &str, data: &[u8]| -> std::io::Result<()> {
        let mut h = tar::Header::new_gnu();
        h.set_size(data.len() as u64);
        h.set_mode(0o600);
        h.set_cksum();
        tar.append_data(&mut h, path, data)
    };
    if let Some(pass) = db_pass {
        add("db.pass", pass.expose().as_bytes())?;
        match kind {
            SiteKind::Laravel => add("shared/.env", laravel_env(layout, pass).as_bytes())?,
            SiteKind::Wordpress => add("shared/wp-config.php", wp_config(layout, pass).as_bytes())?,
            SiteKind::Static => {}
        }
    }
    let bytes = Zeroizing::new(tar.into_inner()?);
    Ok(Box::new(Cursor::new(bytes)))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::validate::DomainName;

    #[test]
    fn generated_configs_hold_the_password_and_no_quotes_break_out() {
        let layout = SiteLayout::new_site(&DomainName::parse("blog.example.com").unwrap());
        let pass = password(32);
        assert_eq!(pass.expose().len(), 32);
        assert!(pass.expose().bytes().all(|b| b.is_ascii_alphanumeric()));
        let wp = wp_config(&layout, &pass);
        assert!(wp.contains(&format!("define('DB_PASSWORD', '{}');", pass.expose())));
        // 6 database settings, 8 salts, WP_DEBUG, FS_METHOD, ABSPATH.
        assert_eq!(wp.matches("define('").count(), 6 + 8 + 3);
        let env = laravel_env(&layout, &pass);
        assert!(env.contains("DB_DATABASE=w_blog_example_com\n") && env.contains("APP_KEY=base64:"));
    }
}
