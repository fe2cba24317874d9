//! A site made by the layout before this one (its base, releases and
//! shared/ its user's own) is where a compromised user could plant links
//! that steered root. Its next deploy or `site repair` looks first: each
//! plant stops it with "site tampered" and nothing changes, outside the
//! site or in it; once clean, the deploy brings the site to root's layout.
//!

use chom_tests::stderr_of;
use chom_tests::web::{diff, laravel_app, WebFleet};

const SITE: &str = "old.example.test";
const USER: &str = "w_old_example_test";
const BASE: &str = "/var/www/old.example.test";
const VICTIM: &str = "/srv/chom-victim-131";

/// What the previous version of CHOM left on the server: the site's user
/// owns its base, releases and shared files; no web group; the vhost's
/// preview open to any local request.
fn to_the_layout_before(fleet: &WebFleet) {
    fleet.sh(
        0,
        &format!(
            "set -e; B={BASE}; U={USER}
             chown -R -h $U:$U $B/releases $B/shared $B/acme
             chown -h $U:$U $B; chmod 755 $B $B/releases $B/shared $B/acme
             find $B/releases -mindepth 1 -type d -exec chmod 755 {{}} +; find $B/releases -type f -exec chmod 644 {{}} +
             chmod 600 $B/shared/.env; rm -f $B/.chom/preview $B/.chom/preview-header
             gpasswd -d www-data n_old_example_test >/dev/null; groupdel n_old_example_test
             f=/etc/nginx/sites-available/chom-old.example.test.conf
             sed -i -e '/^# chom-layout 2$/d' -e 's/\"127.0.0.1:[0-9a-f]*\"/\"127.0.0.1:1\"/' $f
             service nginx reload >/dev/null"
        ),
    );
    assert_eq!(fleet.sh(0, &format!("stat -c %U {BASE}/current/public/index.php")).trim(), USER);
}

#[test]
fn a_site_of_the_layout_before_refuses_plants_and_is_repaired() {
    let fleet = WebFleet::start(1);
    let c = &fleet.chom;
    let work = tempfile::tempdir().unwrap();
    fleet.sh(0, &format!("mkdir -p {VICTIM}/a {VICTIM}/b {VICTIM}/c && echo keep > {VICTIM}/b/file"));
    let app = laravel_app(&work.path().join("app"), "1");
    let out = c.run(["site", "create", SITE, "--kind", "laravel", "--server", "web0", "--from", app.to_str().unwrap()]);
    assert!(out.status.success(), "{}", stderr_of(&out));
    to_the_layout_before(&fleet);
    let release = fleet.sh(0, &format!("readlink {BASE}/current")).trim().to_owned();
    // Taking the site's lock records who holds it (.chom/holder): CHOM's
    // own bookkeeping, not a change to the site.
    let everything = |f: &WebFleet| {
        let skip = ["/etc/nginx/sites-enabled", "/etc/.pwd.lock", "/var/www/old.example.test/.chom/holder"];
        f.fingerprint(0, &["/etc", "/root", VICTIM, BASE], &skip)
    };

    let r2 = laravel_app(&work.path().join("r2"), "2");
    for (what, plant, undo, action) in [
        (
            "releases -> /srv (the deploy's prune would empty it)",
            format!("cd {BASE} && mv releases releases.mine && ln -s {VICTIM} releases"),
            format!("cd {BASE} && rm releases && mv releases.mine releases"),
            "deploy",
        ),
        (
            "shared/.env -> /etc/shadow",
            format!("cd {BASE}/shared && mv .env env.mine && ln -s /etc/shadow .env"),
            format!("cd {BASE}/shared && rm .env && mv env.mine .env"),
            "repair",
        ),
        (
            "a second hard link to .env",
            format!("ln {BASE}/shared/.env {BASE}/shared/storage/env-copy"),
            format!("rm {BASE}/shared/storage/env-copy"),
            "deploy",
        ),
        (
            "shared/storage -> /etc (install -d would give /etc to the user)",
            format!("cd {BASE}/shared && mv storage storage.mine && ln -s /etc storage"),
            format!("cd {BASE}/shared && rm storage && mv storage.mine storage"),
            "repair",
        ),
        (
            "current -> /etc",
            format!("ln -sfn /etc {BASE}/current"),
            format!("ln -sfn {release} {BASE}/current"),
            "deploy",
        ),
        (
            "a release -> /root",
            format!("cd {BASE}/releases && mkdir 20000101-000000-000-0000 && rmdir 20000101-000000-000-0000 && ln -s /root 20000101-000000-000-0000"),
            format!("rm {BASE}/releases/20000101-000000-000-0000"),
            "repair",
        ),
    ] {
        let (planted, said) = fleet.sh_as(0, USER, &plant);
        assert!(planted, "{what}: {said}");
        let before = everything(&fleet);
        let out = match action {
            "deploy" => c.run(["deploy", SITE, "--from", r2.to_str().unwrap()]),
            _ => c.run(["site", "repair", SITE]),
        };
        let err = stderr_of(&out);
        assert_eq!(out.status.code(), Some(10), "{what}: {err}");
        assert!(err.contains("site tampered: /var/www/old.example.test/"), "{what}: {err}");
        let after = everything(&fleet);
        assert!(before == after, "{what}: something changed:\n{}", diff(&before, &after));
        fleet.sh(0, &undo);
    }

    // Clean again: the next deploy converts the site and goes live.
    let (d, status) = c.json(["deploy", SITE, "--from", r2.to_str().unwrap(), "--expect", "release: 2"]);
    assert_eq!(status, 0, "{d:#}");
    assert!(fleet.get(0, SITE, "/").1.contains("release: 2"));
    let layout = fleet.sh(
        0,
        &format!("cd {BASE} && stat -c '%n %U:%G %a' . releases shared shared/.env shared/storage current/public/index.php current/bootstrap/cache"),
    );
    assert_eq!(
        layout,
        format!(
            ". root:n_old_example_test 750\nreleases root:n_old_example_test 750\nshared root:n_old_example_test 750\n\
             shared/.env root:{USER} 640\nshared/storage {USER}:n_old_example_test 2750\n\
             current/public/index.php root:n_old_example_test 640\ncurrent/bootstrap/cache {USER}:{USER} 750\n"
        )
    );
    // The release it had is root's too, and rollback to it works.
    assert_eq!(fleet.sh(0, &format!("stat -c %U {BASE}/{release}")).trim(), "root");
    let (back, status) = c.json(["rollback", SITE]);
    assert_eq!(status, 0, "{back:#}");
    assert!(fleet.get(0, SITE, "/").1.contains("release: 1"));
    let (r, _) = c.json(["site", "repair", SITE]);
    assert_eq!(r["changed"], serde_json::json!([]), "a repaired site needs no repair: {r:#}");
}
