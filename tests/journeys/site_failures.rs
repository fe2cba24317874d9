//! Hostile input, a failing nginx config, a certificate from pebble, a
//! checksum-verified WordPress download, setup putting sshd back, the live
//! check after the switch.

use std::process::Stdio;
use std::time::Duration;

use chom_tests::stderr_of;
use chom_tests::web::{static_site, WebFleet};

/// Hostile domains, git URLs and hook paths: a specific error each, and
/// neither the server nor the cache changes. A vhost nginx rejects is
/// rolled back with everything the create made; nginx keeps serving.
#[test]
fn hostile_input_and_a_failing_nginx_config_change_nothing() {
    let fleet = WebFleet::start(1);
    let c = &fleet.chom;
    c.ok(["site", "create", "ok.example.test", "--kind", "static", "--server", "web0"]);
    let before = (fleet.server_listing(0), c.snapshot(), c.json(["site", "list"]).0);
    let long_label = format!("{}.com", "a".repeat(64));
    for domain in ["a.com;rm -rf /", "$(id).com", "../x", &long_label, "-x.com", "`touch /tmp/pwned`.com", "a.com\nb"] {
        let out = c.run(["site", "create", domain, "--kind", "static", "--server", "web0"]);
        assert_eq!(out.status.code(), Some(2), "{domain:?}: {}", stderr_of(&out));
        assert!(stderr_of(&out).contains("invalid domain"), "{domain:?}: {}", stderr_of(&out));
    }
    for url in ["--upload-pack=touch /tmp/pwned", "ext::sh -c touch% /tmp/pwned", "file:///etc"] {
        let out = c.run(["deploy", "ok.example.test", "--git", url, "--ref", "main"]);
        assert_eq!(out.status.code(), Some(2), "{url:?}: {}", stderr_of(&out));
        assert!(stderr_of(&out).contains("invalid git URL"), "{url:?}: {}", stderr_of(&out));
    }
    let out = c.run(["deploy", "ok.example.test", "--git", "https://example.test/x.git", "--ref", "--upload-pack=x"]);
    assert_eq!(out.status.code(), Some(2), "{}", stderr_of(&out));
    let dir = tempfile::tempdir().unwrap();
    for hook in ["../../etc/passwd", "/bin/sh", "hooks/../../x"] {
        let out = c.run(["deploy", "ok.example.test", "--from", dir.path().to_str().unwrap(), "--build-hook", hook]);
        assert_eq!(out.status.code(), Some(2), "{hook:?}: {}", stderr_of(&out));
        assert!(stderr_of(&out).contains("invalid path"), "{hook:?}: {}", stderr_of(&out));
    }
    let out = c.run(["deploy", "ok.example.test", "--from", dir.path().to_str().unwrap(), "--health-path", "/$(id)"]);
    assert_eq!(out.status.code(), Some(2), "{}", stderr_of(&out));
    // Sources checked here, before anything is made: also when a create
    // would deploy them (the site is not created).
    let empty = dir.path().join("empty");
    std::fs::create_dir_all(empty.join(".git")).unwrap();
    std::fs::write(empty.join(".git/HEAD"), "ref: refs/heads/main\n").unwrap();
    let not_gzip = dir.path().join("site.tar.gz");
    std::fs::write(&not_gzip, "<h1>not a tarball</h1>").unwrap();
    let (empty, not_gzip) = (empty.to_str().unwrap(), not_gzip.to_str().unwrap());
    let create = ["site", "create", "new.example.test", "--kind", "static", "--server", "web0"];
    for (extra, says) in [
        (vec!["--from", empty], "holds no files"),
        (vec!["--tarball", not_gzip], "is not a .tar.gz"),
        (vec!["--alias", "www.new.example.test", "--alias", "WWW.new.example.test"], "given twice"),
        (vec!["--alias", "new.example.test."], "given twice"),
    ] {
        let out = c.run(create.iter().copied().chain(extra.iter().copied()));
        assert_eq!(out.status.code(), Some(2), "{extra:?}: {}", stderr_of(&out));
        assert!(stderr_of(&out).contains(says), "{extra:?}: {}", stderr_of(&out));
    }
    for source in [["--from", empty], ["--tarball", not_gzip]] {
        let out = c.run(["deploy", "ok.example.test", source[0], source[1]]);
        assert_eq!(out.status.code(), Some(2), "{source:?}: {}", stderr_of(&out));
    }
    assert_eq!(before, (fleet.server_listing(0), c.snapshot(), c.json(["site", "list"]).0));
    assert!(!std::path::Path::new("/tmp/pwned").exists());
    assert!(!fleet.sh(0, "ls /tmp").contains("pwned"));

    // A long but valid domain (three 60-character labels) is served: the
    // server-name hash gets room for it.
    let long = format!("{}.{}.{}.example.test", "a".repeat(60), "b".repeat(60), "c".repeat(60));
    c.ok(["site", "create", &long, "--kind", "static", "--server", "web0"]);
    assert!(fleet.get(0, &long, "/").1.contains("is ready"));
    c.ok(["site", "delete", &long, "--yes"]);

    // Any config nginx rejects (here a broken file someone left) stops a
    // create before the reload, and the create undoes itself.
    fleet.sh(0, "echo 'this is not nginx;' > /etc/nginx/conf.d/broken.conf");
    let listing = fleet.server_listing(0);
    let out = c.run(["site", "create", "new.example.test", "--kind", "wordpress", "--server", "web0"]);
    assert_eq!(out.status.code(), Some(10), "{}", stderr_of(&out));
    assert!(stderr_of(&out).contains("nginx -t rejected"), "{}", stderr_of(&out));
    assert_eq!(listing, fleet.server_listing(0), "the failed create left something behind");
    assert_eq!(c.json(["site", "list"]).0.as_array().unwrap().len(), 1);
    assert_eq!(fleet.get(0, "ok.example.test", "/").0, 200, "nginx kept serving");
    fleet.sh(0, "rm /etc/nginx/conf.d/broken.conf");
}

/// certbot on the host gets a certificate from pebble (real ACME HTTP-01
/// through the site's nginx); the expiry is read back and cached.
#[test]
fn certificate_from_pebble() {
    let mut fleet = WebFleet::start(1);
    let ca = fleet.lab.start_pebble().unwrap().ca_bundle.clone();
    fleet.lab.pebble_point("tls.example.test", 0).unwrap();
    let c = &fleet.chom;
    c.ok(["site", "create", "tls.example.test", "--kind", "static", "--server", "web0"]);
    // certbot writes the challenge as root into acme/, which the site's user cannot touch.
    let plant = "ln -s /etc /var/www/tls.example.test/acme/.well-known";
    assert!(!fleet.sh_as(0, "w_tls_example_test", plant).0, "the site's user planted a link in acme/");
    let (st, status) = c.json([
        "ssl",
        "issue",
        "tls.example.test",
        "--acme-url",
        chom_lab::PEBBLE_DIRECTORY,
        "--acme-ca",
        ca.to_str().unwrap(),
    ]);
    assert_eq!(status, 0, "{st:#}");
    assert!(st["days_left"].as_i64().unwrap() > 14, "{st:#}");
    assert_eq!(st["expiring"], false);
    let issuer = fleet.sh(0, "openssl x509 -issuer -noout -in /etc/letsencrypt/live/tls.example.test/cert.pem");
    assert!(issuer.to_lowercase().contains("pebble"), "{issuer}");
    let addr = fleet.lab.hosts()[0].addr;
    let https = std::process::Command::new("curl")
        .args(["-sk", "--resolve", &format!("tls.example.test:443:{addr}"), "https://tls.example.test/"])
        .output()
        .unwrap();
    assert!(String::from_utf8_lossy(&https.stdout).contains("tls.example.test is ready"));
    assert_eq!(fleet.get(0, "tls.example.test", "/").0, 301, "HTTP redirects to HTTPS");
    let (all, status) = c.json(["ssl", "status"]);
    assert_eq!(status, 0, "{all:#}");
    assert_eq!(all[0]["expires_at"], st["expires_at"]);
    assert_eq!(c.json(["site", "show", "tls.example.test"]).0["site"]["ssl_expires_at"], st["expires_at"]);
    // Renewal runs on the server: a cron entry carries the custom CA.
    assert!(fleet.sh(0, "cat /etc/cron.d/chom-certbot").contains("certbot -q renew"));
    // A deploy on an HTTPS site is health-checked over HTTPS.
    let work = tempfile::tempdir().unwrap();
    let r = static_site(&work.path().join("r"), "Secure release", 1);
    let (d, status) =
        c.json(["deploy", "tls.example.test", "--from", r.to_str().unwrap(), "--expect", "Secure release"]);
    assert_eq!(status, 0, "{d:#}");
}

/// WordPress downloaded by the server itself (as from wordpress.org, here
/// from an HTTPS server on this machine's end of the host's veth): a wrong
/// checksum stops it before anything is unpacked; the right one, read from
/// the `.sha1` next to the tarball, installs it.
#[test]
fn wordpress_download_is_checksum_verified() {
    let fleet = WebFleet::start(1);
    let c = &fleet.chom;
    let work = tempfile::tempdir().unwrap();
    let www = work.path().join("www");
    std::fs::create_dir_all(&www).unwrap();
    let tarball = chom_tests::web::wordpress_tarball(&www);
    let sha1 = std::process::Command::new("sha1sum").arg(&tarball).output().unwrap();
    let sha1 = String::from_utf8_lossy(&sha1.stdout).split_whitespace().next().unwrap().to_owned();
    std::fs::write(www.join("wordpress.tar.gz.sha1"), &sha1).unwrap();
    let gateway = fleet.lab.hosts()[0].gateway().to_string();
    let listen = gateway.as_str();
    let (cert, key) = (work.path().join("cert.pem"), work.path().join("key.pem"));
    let st = std::process::Command::new("openssl")
        .args(["req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes", "-days", "2"])
        .args(["-subj", "/CN=lab mirror", "-addext", &format!("subjectAltName=IP:{listen}")])
        .arg("-keyout")
        .arg(&key)
        .arg("-out")
        .arg(&cert)
        .stderr(Stdio::null())
        .status()
        .unwrap();
    assert!(st.success());
    // The host trusts the mirror's certificate, as a server trusts a public
    // CA: added to the bundle in its own /etc (not this machine's /usr).
    let pem = std::fs::read_to_string(&cert).unwrap();
    fleet.sh(0, &format!("printf '%s' '{pem}' >> /etc/ssl/certs/ca-certificates.crt"));
    let server = format!(
        "import http.server, ssl, functools\n\
         h = functools.partial(http.server.SimpleHTTPRequestHandler, directory='{www}')\n\
         s = http.server.ThreadingHTTPServer(('{listen}', 8443), h)\n\
         ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER); ctx.load_cert_chain('{cert}', '{key}')\n\
         s.socket = ctx.wrap_socket(s.socket, server_side=True)\n\
         s.serve_forever()\n",
        www = www.display(),
        cert = cert.display(),
        key = key.display()
    );
    let mut mirror = std::process::Command::new("python3")
        .args(["-c", &server])
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    std::thread::sleep(Duration::from_millis(700));
    let url = format!("https://{listen}:8443/wordpress.tar.gz");

    let bad = "0".repeat(40);
    let out = c.run([
        "site",
        "create",
        "dl.example.test",
        "--kind",
        "wordpress",
        "--server",
        "web0",
        "--wp-url",
        &url,
        "--wp-sha1",
        &bad,
    ]);
    assert_eq!(out.status.code(), Some(10), "{}", stderr_of(&out));
    assert!(stderr_of(&out).contains(&format!("is {sha1}, expected {bad}")), "{}", stderr_of(&out));
    assert!(fleet.get(0, "dl.example.test", "/").1.contains("is ready"), "the placeholder keeps serving");
    c.ok(["site", "delete", "dl.example.test", "--yes"]);

    let out = c.run([
        "site",
        "create",
        "dl.example.test",
        "--kind",
        "wordpress",
        "--server",
        "web0",
        "--wp-url",
        &url,
        "--wp-title",
        "Mirrored",
    ]);
    let _ = mirror.kill();
    let _ = mirror.wait();
    assert!(out.status.success(), "{}", stderr_of(&out));
    assert!(fleet.get(0, "dl.example.test", "/").1.contains("<title>Mirrored</title>"));
}

/// Setup proves a fresh login after hardening sshd and puts the previous
/// configuration back when it fails. The failure is made the way it
/// happens on real servers: an sshd_config change somebody left without a
/// reload (here `DenyUsers root`) takes effect with setup's reload.
#[test]
fn setup_puts_sshd_back_when_a_fresh_login_fails() {
    let fleet = WebFleet::start(1);
    fleet.sh(0, "printf 'DenyUsers root\\n' >/etc/ssh/sshd_config.d/00-pending.conf");
    let sshd_state = "ls -lA --time-style=full-iso /etc/ssh/sshd_config.d; md5sum /etc/ssh/sshd_config.d/*; \
                      sshd -T | grep -Ei '^(passwordauthentication|permitrootlogin|kbdinteractiveauthentication) '";
    let before = fleet.sh(0, sshd_state);

    let out = fleet.chom.run(["server", "setup", "web0"]);
    assert_eq!(out.status.code(), Some(10), "{}", stderr_of(&out));
    let err = stderr_of(&out);
    assert!(err.contains("a fresh login failed with the hardened sshd configuration"), "{err}");
    assert!(err.contains("the previous one was put back"), "{err}");
    assert_eq!(fleet.sh(0, sshd_state), before, "sshd's files and effective settings are as before setup");

    // Once the pending change is undone, CHOM gets in again and setup completes.
    fleet.sh(0, "rm /etc/ssh/sshd_config.d/00-pending.conf && service ssh reload");
    let (setup, status) = fleet.chom.json(["server", "setup", "web0"]);
    assert_eq!(status, 0, "{setup:#}");
    assert_eq!(setup["login_verified"], true);
}

/// What happens after the switch. A release that passes its check as `next`
/// but not once live (its index is a link through `current`) is switched
/// back at once; a failing post-deploy hook leaves its release live and
/// the cache says so; a disabled site (in the cache, or only on the
/// server) takes no deploy, since its release could not be checked.
#[test]
fn after_the_switch_the_live_site_is_checked_and_the_cache_follows() {
    let fleet = WebFleet::start(1);
    let c = &fleet.chom;
    let work = tempfile::tempdir().unwrap();
    let domain = "after.example.test";
    let one = static_site(&work.path().join("one"), "Release one", 1);
    std::fs::write(one.join("marker.html"), "marker of release one\n").unwrap();
    let (created, status) = c.json(
        ["site", "create", domain, "--kind", "static", "--server", "web0", "--from"]
            .into_iter()
            .chain([one.to_str().unwrap()]),
    );
    assert_eq!(status, 0, "{created:#}");
    let release1 = created["deploy"]["release"].as_str().unwrap().to_owned();

    // 1. Passes as `next` (its index resolves to the live release's marker),
    //    fails once live (it has no marker of its own).
    let two = work.path().join("two");
    std::fs::create_dir_all(&two).unwrap();
    std::os::unix::fs::symlink("../../current/marker.html", two.join("index.html")).unwrap();
    let releases = format!("ls /var/www/{domain}/releases; readlink /var/www/{domain}/current");
    let before = fleet.sh(0, &releases);
    let out = c.run(["deploy", domain, "--from", two.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(10), "{}", stderr_of(&out));
    let err = stderr_of(&out);
    assert!(err.contains("failed it once live") && err.contains(&format!("release {release1} serves")), "{err}");
    assert_eq!(fleet.get(0, domain, "/"), (200, "<!doctype html><h1>Release one</h1>\n".into()));
    assert_eq!(fleet.sh(0, &releases), before, "release one is current again and the failed one is gone");
    let (show, _) = c.json(["site", "show", domain]);
    assert_eq!(show["site"]["current_release"], release1.as_str());
    assert_eq!(
        (show["deploys"][0]["state"].as_str(), show["deploys"][0]["step"].as_str()),
        (Some("failed"), Some("verify"))
    );

    // 2. A post-deploy hook that fails runs after the switch: its release is live.
    let three = static_site(&work.path().join("three"), "Release three", 1);
    std::fs::write(three.join("after.sh"), "echo about to fail; exit 3\n").unwrap();
    let out = c.run(["deploy", domain, "--from", three.to_str().unwrap(), "--post-hook", "after.sh"]);
    assert_eq!(out.status.code(), Some(10), "{}", stderr_of(&out));
    assert!(stderr_of(&out).contains("post-deploy hook after.sh failed"), "{}", stderr_of(&out));
    assert_eq!(fleet.get(0, domain, "/").1, "<!doctype html><h1>Release three</h1>\n");
    let live = fleet.sh(0, &format!("readlink /var/www/{domain}/current"));
    let (show, _) = c.json(["site", "show", domain]);
    let release3 = show["site"]["current_release"].as_str().unwrap().to_owned();
    assert_eq!(live.trim(), format!("releases/{release3}"), "the cache names the release that serves");
    assert_ne!(release3, release1);
    assert_eq!(show["deploys"][0]["state"], "live", "{show:#}");

    // 3. Disabled in the cache: refused before anything is sent.
    c.ok(["site", "disable", domain]);
    let before = fleet.server_listing(0);
    let out = c.run(["deploy", domain, "--from", one.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(2), "{}", stderr_of(&out));
    // The core says what to do in words; the CLI adds its command line.
    let err = stderr_of(&out);
    assert!(
        err.contains("enable it first") && err.contains(&format!("chom: hint: chom site enable {domain}")),
        "{err}"
    );
    let (json, _) = c.json(["deploy", domain, "--from", one.to_str().unwrap()]);
    assert_eq!(json["error"]["remedy"], serde_json::json!({ "kind": "enable_site", "site": domain }), "{json:#}");
    assert_eq!(fleet.server_listing(0), before);

    // 4. Disabled only on the server (by hand): the server refuses it.
    c.ok(["site", "enable", domain]);
    fleet.sh(0, &format!("rm /etc/nginx/sites-enabled/chom-{domain}.conf && service nginx reload"));
    let before = fleet.sh(0, &releases);
    let out = c.run(["deploy", domain, "--from", one.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(10), "{}", stderr_of(&out));
    assert!(stderr_of(&out).contains("is disabled on this server"), "{}", stderr_of(&out));
    assert_eq!(fleet.sh(0, &releases), before, "no release was made");
}
