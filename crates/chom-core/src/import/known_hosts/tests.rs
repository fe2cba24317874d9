use std::path::Path;
use std::process::Command;

use super::*;

// Real keys, made with `ssh-keygen -t ... -C ''`; fingerprints from `ssh-keygen -lf`.
const ED_A: &str = "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIIF+y68JftGEMb/6gpqFl8ie0SZQsrphx5SRiBCOY+no";
const ED_A_FP: &str = "SHA256:zrWcAIBFUnPSnDcnQi4s9YWqA5a6kZ/X5gYe9onbdi0";
const ED_B: &str = "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAID0b68KnIYoGNXIuFvm/hWZXZ9h/DHDBorOFn5TbjH4J";
const ED_C: &str = "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIKZFXhwZBHx+33Hw3ZA50rdd9kepZFyI2kec0UzDlTsL";
const ECDSA: &str = "ecdsa-sha2-nistp256 AAAAE2VjZHNhLXNoYTItbmlzdHAyNTYAAAAIbmlzdHAyNTYAAABBBKtj9SaHG4KC4RBiqJy+CthQI/Acp1uXYqTKnr+l94hJ8hdhbpRivqduqhD2lbZjxRzilYQsUUVAxywAzy9d76E=";
const ECDSA_FP: &str = "SHA256:rnGL/MHV9sMckae2cp3eDNeP9u4PdkrxgpZ3n9gQpuo";
const RSA: &str = "ssh-rsa AAAAB3NzaC1yc2EAAAADAQABAAABAQCnZ5ttWnSX4ob2UKDY1aJm41ILnMKICijULWIkHfiVPXgFslC3NGqWgJrJiUjW/Lp8kyw5n9gSvwcFyYRrbA+Lr7vzB2VdPZ/UZ8ZQ2I4wY4AeVpf+BeDWqzziGlDDvs3MI1P8RCkYr0i2keh5QbmWOaKGE4AxCpngx8IoWFkqsH6lyu3NFGXAv/YmjtpeT59CoJenwptWVeCXeabOTuX4rqfNbIy6wgQhWYC4M239bXaGW1cAIvXyODaxnDfQQ58C62S0rwNNxU7qbHGgHuisyMTNxi6tmiRe5A6a6pKklYXGellib00iillhq4KerwoAXj4ttkkLwEdyxDM3RseN";
const RSA_FP: &str = "SHA256:f+yv7L3ek4dqvfhn0X/LN+5C63xVhp+W24lrrUHMbMg";

fn lines(keys: &[KnownKey]) -> Vec<usize> {
    keys.iter().map(|k| k.line).collect()
}

fn ssh_keygen(args: &[&str]) -> std::process::Output {
    Command::new("ssh-keygen").args(args).output().expect("ssh-keygen (OpenSSH) is installed")
}

/// A fresh ed25519 public key, "ssh-ed25519 AAAA...".
fn new_key(dir: &Path, name: &str) -> String {
    let path = dir.join(name);
    let out = ssh_keygen(&["-q", "-t", "ed25519", "-N", "", "-C", "", "-f", path.to_str().unwrap()]);
    assert!(out.status.success(), "ssh-keygen -t ed25519: {}", String::from_utf8_lossy(&out.stderr));
    let public = std::fs::read_to_string(path.with_extension("pub")).unwrap();
    public.split_whitespace().take(2).collect::<Vec<_>>().join(" ")
}

/// `text` hashed by `ssh-keygen -H`, as OpenSSH writes hashed files.
fn hash_with_ssh_keygen(dir: &Path, text: &str) -> String {
    let path = dir.join("to-hash");
    std::fs::write(&path, text).unwrap();
    let out = ssh_keygen(&["-H", "-f", path.to_str().unwrap()]);
    assert!(out.status.success(), "ssh-keygen -H: {}", String::from_utf8_lossy(&out.stderr));
    let hashed = std::fs::read_to_string(&path).unwrap();
    assert!(hashed.lines().all(|l| l.starts_with("|1|")), "not hashed: {hashed}");
    hashed
}

#[test]
fn plain_name_pins_its_key_on_port_22_only() {
    let known = parse(&format!("host.example,192.0.2.1 {ED_A} root@host\n"));
    assert!(known.problems().is_empty(), "{:?}", known.problems());
    assert_eq!(known.len(), 1);

    let found = known.lookup("host.example", 22);
    let expected =
        KnownKey { line: 1, algorithm: "ssh-ed25519".into(), public_key: ED_A.into(), fingerprint: ED_A_FP.into() };
    assert_eq!(found, Lookup { keys: vec![expected], ..Lookup::default() });
    assert_eq!(lines(&known.lookup("192.0.2.1", 22).keys), [1]);
    assert!(known.lookup("host.example", 2222).is_empty());
    assert!(known.lookup("other.example", 22).is_empty());
    assert!(known.lookup("host.example.evil", 22).is_empty());
    assert!(known.lookup("host", 22).is_empty());
}

#[test]
fn hashed_lines_from_ssh_keygen_match_the_host_and_its_bracketed_port() {
    let dir = tempfile::tempdir().unwrap();
    let text = hash_with_ssh_keygen(dir.path(), &format!("host.example {ED_A}\n[host.example]:2222 {ED_B}\n"));
    let known = parse(&text);
    assert!(known.problems().is_empty(), "{:?}", known.problems());

    let on_22 = known.lookup("host.example", 22);
    assert_eq!(lines(&on_22.keys), [1]);
    assert_eq!(on_22.keys[0].public_key, ED_A);
    let on_2222 = known.lookup("host.example", 2222);
    assert_eq!(lines(&on_2222.keys), [2]);
    assert_eq!(on_2222.keys[0].public_key, ED_B);
    assert!(known.lookup("host.example", 2223).is_empty());
    assert!(known.lookup("other.example", 22).is_empty());
    assert!(known.named_hosts().is_empty(), "hashed lines name no host");
}

#[test]
fn bracketed_port_matches_only_that_port_and_port_22_is_never_bracketed() {
    let known = parse(&format!("[host.example]:2222 {ED_A}\n[host.example]:22 {ED_B}\n"));
    assert!(known.problems().is_empty());
    assert_eq!(lines(&known.lookup("host.example", 2222).keys), [1]);
    // ssh looks port 22 up as plain "host.example", so line 2 never applies.
    assert!(known.lookup("host.example", 22).is_empty());
    assert!(known.lookup("host.example", 22222).is_empty());
}

#[test]
fn wildcards_match_and_a_negated_pattern_excludes_its_line() {
    let known = parse(&format!(
        "*.example,!secret.example {ED_A}\n\
         web-??.example {ED_B}\n\
         !secret.example,secret.example {ED_C}\n\
         [*.example]:2200 {ECDSA}\n"
    ));
    assert!(known.problems().is_empty());
    assert_eq!(lines(&known.lookup("www.example", 22).keys), [1]);
    assert_eq!(lines(&known.lookup("web-01.example", 22).keys), [1, 2]);
    assert_eq!(lines(&known.lookup("web-1.example", 22).keys), [1], "? is exactly one character");
    // Negation wins wherever it stands, even over a positive match.
    assert!(known.lookup("secret.example", 22).is_empty());
    assert!(known.lookup("example", 22).is_empty(), "*.example needs the dot");
    assert_eq!(lines(&known.lookup("db.example", 2200).keys), [4]);
    assert_eq!(lines(&known.lookup("secret.example", 2200).keys), [4]);
}

#[test]
fn several_lines_give_one_host_several_keys_each_once() {
    let known = parse(&format!(
        "host.example {ED_A}\n\
         host.example,other.example {ECDSA}\n\
         host.example {RSA}\n\
         other.example,host.example {ED_A}\n"
    ));
    assert!(known.problems().is_empty());
    let keys = known.lookup("host.example", 22).keys;
    assert_eq!(lines(&keys), [1, 2, 3], "the repeated key is listed once, at its first line");
    let algorithms: Vec<&str> = keys.iter().map(|k| k.algorithm.as_str()).collect();
    assert_eq!(algorithms, ["ssh-ed25519", "ecdsa-sha2-nistp256", "ssh-rsa"]);
    let fingerprints: Vec<&str> = keys.iter().map(|k| k.fingerprint.as_str()).collect();
    assert_eq!(fingerprints, [ED_A_FP, ECDSA_FP, RSA_FP]);
    assert_eq!(keys[2].public_key, RSA);
    assert_eq!(lines(&known.lookup("other.example", 22).keys), [2, 4]);
}

#[test]
fn revoked_key_is_refused_even_where_another_line_pins_it() {
    let known = parse(&format!(
        "host.example {ED_A}\n\
         host.example {ED_B}\n\
         @revoked * {ED_A}\n\
         @revoked other.example {ED_B}\n\
         @revoked late.example {ED_C}\n\
         late.example {ED_C}\n"
    ));
    assert!(known.problems().is_empty(), "{:?}", known.problems());

    let host = known.lookup("host.example", 22);
    assert_eq!(lines(&host.keys), [2]);
    assert!(host.keys.iter().all(|k| k.public_key != ED_A));
    assert_eq!(lines(&host.revoked), [3]);
    assert_eq!(host.revoked[0].public_key, ED_A);

    // A revocation names its hosts: ED_B is revoked for other.example only.
    assert_eq!(lines(&known.lookup("other.example", 22).revoked), [3, 4]);
    // The order of the lines does not matter.
    let late = known.lookup("late.example", 22);
    assert!(late.keys.is_empty());
    assert_eq!(lines(&late.revoked), [3, 5]);
}

#[test]
fn cert_authority_lines_are_reported_and_never_pinned() {
    let known = parse(&format!(
        "@cert-authority *.example {ED_A}\n\
         host.example {ED_B}\n\
         @cert-authority host.example {ED_C}\n\
         @revoked host.example {ED_C}\n"
    ));
    assert!(known.problems().is_empty());
    let found = known.lookup("host.example", 22);
    assert_eq!(lines(&found.keys), [2]);
    assert_eq!(lines(&found.cert_authorities), [1], "a revoked authority is not offered");
    assert_eq!(found.cert_authorities[0].public_key, ED_A);
    assert_eq!(lines(&found.revoked), [4]);
    assert!(known.lookup("elsewhere.test", 22).is_empty());
    assert_eq!(known.named_hosts(), [("host.example".to_owned(), 22)], "marker lines name no server");
}

#[test]
fn bad_lines_are_reported_by_number_and_the_others_still_count() {
    let ed_b_blob = ED_B.split_once(' ').unwrap().1;
    let text = [
        format!("good.example {ED_A}"),
        "# a comment".into(),
        "".into(),
        "   ".into(),
        "only-a-host.example".into(),
        format!("@revoke good.example {ED_B}"),
        format!("@revoked @revoked good.example {ED_B}"),
        "good.example ssh-ed25519 AAAA!!!!".into(),
        "good.example ssh-foo AAAAC3NzaC1lZDI1NTE5".into(),
        format!("good.example ecdsa-sha2-nistp256 {ed_b_blob}"),
        format!("|2|abc|def {ED_B}"),
        format!("|1|c2hvcnQ=|eHl6 {ED_B}"),
        format!("good.example {ED_C}"),
        "good.example 1024 35 12345".into(),
        format!("good.example ssh-ed25519-cert-v01@openssh.com {ed_b_blob}"),
        "good.example # the key went missing".into(),
        "@revoked".into(),
        "good.example ssh-ed25519".into(),
    ]
    .join("\n");
    let known = parse(&text);
    let problems: Vec<(usize, &LineError)> = known.problems().iter().map(|p| (p.line, &p.error)).collect();
    let numbers: Vec<usize> = problems.iter().map(|(line, _)| *line).collect();
    assert_eq!(numbers, [5, 6, 7, 8, 9, 10, 11, 12, 14, 15, 16, 17, 18], "{problems:#?}");
    assert!(matches!(problems[0].1, LineError::MissingKey));
    assert!(matches!(problems[1].1, LineError::BadMarker { marker } if marker == "@revoke"));
    assert!(matches!(problems[2].1, LineError::BadMarker { .. }));
    assert!(matches!(problems[3].1, LineError::BadKey { .. }));
    assert!(matches!(problems[4].1, LineError::UnsupportedKeyType { algorithm } if algorithm == "ssh-foo"));
    assert!(matches!(problems[5].1, LineError::BadKey { detail, .. } if detail.contains("ssh-ed25519")));
    assert!(matches!(problems[6].1, LineError::BadHash { .. }));
    assert!(matches!(problems[7].1, LineError::BadHash { .. }));
    assert!(matches!(problems[8].1, LineError::UnsupportedKeyType { algorithm } if algorithm == "1024"));
    assert!(matches!(problems[9].1, LineError::UnsupportedKeyType { .. }));
    assert!(matches!(problems[10].1, LineError::MissingKey));
    assert!(matches!(problems[11].1, LineError::BadMarker { .. }));
    assert!(matches!(problems[12].1, LineError::BadKey { .. }));
    assert!(known.problems()[0].to_string().starts_with("line 5: no key after the host names"));

    assert_eq!(known.len(), 2);
    assert_eq!(lines(&known.lookup("good.example", 22).keys), [1, 13]);
}

#[test]
fn host_names_compare_case_insensitively() {
    let dir = tempfile::tempdir().unwrap();
    // ssh-keygen -H hashes names as written; ssh writes them lowercased.
    let hashed = hash_with_ssh_keygen(dir.path(), &format!("hashed.example {ED_C}\n"));
    let known = parse(&format!(
        "Host.Example {ED_A}\n\
         *.EXAMPLE.org {ED_B}\n\
         [Port.Example]:2222 {ECDSA}\n\
         {hashed}"
    ));
    assert!(known.problems().is_empty());
    assert_eq!(lines(&known.lookup("host.example", 22).keys), [1]);
    assert_eq!(lines(&known.lookup("HOST.EXAMPLE", 22).keys), [1]);
    assert_eq!(lines(&known.lookup("Web.Example.Org", 22).keys), [2]);
    assert_eq!(lines(&known.lookup("PORT.example", 2222).keys), [3]);
    assert_eq!(lines(&known.lookup("HASHED.Example", 22).keys), [4]);
}

#[test]
fn crlf_line_endings_read_like_lf() {
    let lf = format!("# comment\nhost.example {ED_A}\n\n@revoked host.example {ED_B}\nhost.example {ED_B} c\n");
    let crlf = lf.replace('\n', "\r\n");
    let known = parse(&crlf);
    assert!(known.problems().is_empty(), "{:?}", known.problems());
    let found = known.lookup("host.example", 22);
    assert_eq!(lines(&found.keys), [2]);
    assert_eq!(found.keys[0].public_key, ED_A);
    assert_eq!(lines(&found.revoked), [4]);
    assert_eq!(found, parse(&lf).lookup("host.example", 22));
}

#[test]
fn named_hosts_lists_clear_text_names_with_their_ports() {
    let salt = [7u8; SALT_LEN];
    let known = parse(&format!(
        "alpha.example,192.0.2.1 {ED_A}\n\
         [beta.example]:2222,[beta.example]:22 {ED_B}\n\
         *.example,!x.example,gamma.example {ED_C}\n\
         @revoked delta.example {ED_A}\n\
         {} {ED_A}\n\
         Alpha.Example {ED_B}\n\
         neg.example,!neg.example {ED_A}\n\
         [bad.example]:http {ED_A}\n",
        hash_name(&salt, "zeta.example"),
    ));
    assert!(known.problems().is_empty(), "{:?}", known.problems());
    assert_eq!(lines(&known.lookup("zeta.example", 22).keys), [3, 5], "the hashed line and *.example");
    let hosts = known.named_hosts();
    let named: Vec<(&str, u16)> = hosts.iter().map(|(h, p)| (h.as_str(), *p)).collect();
    assert_eq!(named, [("alpha.example", 22), ("192.0.2.1", 22), ("beta.example", 2222), ("gamma.example", 22)]);
}

#[test]
fn glob_follows_match_c() {
    let cases: &[(&str, &str, bool)] = &[
        ("abc", "a*c", true),
        ("ac", "a*c", true),
        ("abc", "a?c", true),
        ("ac", "a?c", false),
        ("", "*", true),
        ("", "?", false),
        ("abc", "*b*", true),
        ("abc", "*d", false),
        ("aaa", "a*a*a", true),
        ("aa", "a*a*a", false),
        ("a*c", "a*c", true),
        ("abcd", "abc", false),
        ("abc", "abcd", false),
        ("mississippi", "m*iss*ppi", true),
        ("mississippi", "m*iss*ppx", false),
    ];
    for (text, pattern, want) in cases {
        assert_eq!(glob(text.as_bytes(), pattern.as_bytes()), *want, "{text:?} against {pattern:?}");
    }
    // match.c's recursion is exponential here; the answer must still come.
    let long = "a".repeat(200);
    assert!(!glob(long.as_bytes(), b"*a*a*a*a*a*a*a*a*b"));
}

/// (line, "" | "REVOKED" | "CA", fingerprint) for each line `ssh-keygen -l -F` finds.
fn ssh_keygen_finds(file: &Path, name: &str) -> Vec<(usize, String, String)> {
    let out = ssh_keygen(&["-l", "-F", name, "-f", file.to_str().unwrap()]);
    let stdout = String::from_utf8_lossy(&out.stdout).into_owned();
    let mut found = Vec::new();
    let mut output = stdout.lines();
    while let Some(header) = output.next() {
        let Some((_, rest)) = header.split_once(" found: line ") else { continue };
        let (number, label) = rest.split_once(' ').unwrap_or((rest, ""));
        let fingerprint = output.next().and_then(|l| l.split(' ').find(|t| t.starts_with("SHA256:"))).unwrap();
        found.push((number.parse().unwrap(), label.trim().to_owned(), fingerprint.to_owned()));
    }
    found.sort();
    found
}

fn our_finds(known: &KnownHosts, host: &str, port: u16) -> Vec<(usize, String, String)> {
    let found = known.lookup(host, port);
    let tagged = [(&found.keys, ""), (&found.revoked, "REVOKED"), (&found.cert_authorities, "CA")];
    let mut ours: Vec<_> = tagged
        .iter()
        .flat_map(|(keys, label)| keys.iter().map(move |k| (k.line, label.to_string(), k.fingerprint.clone())))
        .collect();
    ours.sort();
    ours
}

#[test]
fn lookups_agree_with_ssh_keygen_on_which_lines_match() {
    let dir = tempfile::tempdir().unwrap();
    // A key per line, so no line hides another (a revoked key pinned
    // elsewhere would drop that line from our answer by design).
    let k: Vec<String> = (0..17).map(|i| new_key(dir.path(), &format!("k{i}"))).collect();
    let tabbed = k[12].replace(' ', "\t");
    let hashed = hash_with_ssh_keygen(
        dir.path(),
        &format!("hashme.example {}\n[hashme.example]:2022 {}\nepsilon.example,192.0.2.20 {}\n", k[0], k[1], k[2]),
    );
    let text = format!(
        "alpha.example,192.0.2.10 {}\n\
         [alpha.example]:2222 {}\n\
         *.example,!secret.example {}\n\
         beta.exampl? {}\n\
         @revoked gamma.example {}\n\
         @cert-authority *.corp.example {}\n\
         Gamma.Example {}\n\
         [*.example]:2200 {}\n\
         # a comment\n\
         \n\
         broken line\n\
         delta.example ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIIF+y68JftGEMb\n\
         [alpha.example]:22 {}\n\
         @revoked\t*.tab.example\t{tabbed}\n\
         @revoked\t*.quirk.example\t{} comment with spaces\n\
         !a.never.example,*.never.example {}\n\
         @revoked hashme.example {}\n\
         @cert-authority [*.example]:2022 {}\n\
         {hashed}",
        k[3], k[4], k[5], k[6], k[7], k[8], k[9], k[10], k[11], k[13], k[14], k[15], k[16],
    );
    let file = dir.path().join("known_hosts");
    std::fs::write(&file, &text).unwrap();
    let known = parse(&text);
    let problem_lines: Vec<usize> = known.problems().iter().map(|p| p.line).collect();
    assert_eq!(problem_lines, [11, 12, 15], "{:?}", known.problems());

    let queries: &[(&str, u16)] = &[
        ("alpha.example", 22),
        ("alpha.example", 2222),
        ("192.0.2.10", 22),
        ("secret.example", 22),
        ("beta.example", 22),
        ("beta.examplx", 22),
        ("gamma.example", 22),
        ("x.corp.example", 22),
        ("foo.example", 2200),
        ("foo.example", 22),
        ("hashme.example", 22),
        ("hashme.example", 2022),
        ("hashme.example", 2222),
        ("epsilon.example", 22),
        ("192.0.2.20", 22),
        ("nothing.test", 22),
        ("delta.example", 22),
        ("a.tab.example", 22),
        ("a.quirk.example", 22),
        ("a.never.example", 22),
        ("b.never.example", 22),
    ];
    let mut total = 0;
    for &(host, port) in queries {
        let name = if port == 22 { host.to_owned() } else { format!("[{host}]:{port}") };
        let theirs = ssh_keygen_finds(&file, &name);
        assert_eq!(our_finds(&known, host, port), theirs, "lookup of {name}");
        total += theirs.len();
    }
    assert!(total >= 25, "the file should match often enough to test something: {total} matches");
}

/// A known_hosts of 10,000 entries (a third hashed by ssh-keygen -H, some
/// on other ports, four key types): all read, none reported bad, and 60
/// lookups across it find the lines ssh-keygen -F finds.
#[test]
fn ten_thousand_entries_are_read_and_found_as_ssh_keygen_finds_them() {
    let dir = tempfile::tempdir().unwrap();
    let keys = [ED_A, ED_B, ECDSA, RSA];
    let entry = |i: usize| {
        let name = format!("h{i}.fleet.example");
        let name = if i.is_multiple_of(5) { format!("[{name}]:2222") } else { name };
        format!("{name} {}\n", keys[i % keys.len()])
    };
    let hashed: String = (0..10_000usize).filter(|i| i.is_multiple_of(3)).map(entry).collect();
    let plain: String = (0..10_000usize).filter(|i| !i.is_multiple_of(3)).map(entry).collect();
    let text = hash_with_ssh_keygen(dir.path(), &hashed) + &plain;
    let file = dir.path().join("known_hosts");
    std::fs::write(&file, &text).unwrap();
    let known = parse(&text);
    assert_eq!((known.len(), known.problems().len()), (10_000, 0));
    for i in (0..10_000usize).step_by(167).chain([9_999, 3, 5]) {
        let (host, port) = (format!("h{i}.fleet.example"), if i.is_multiple_of(5) { 2222 } else { 22 });
        let name = if port == 22 { host.clone() } else { format!("[{host}]:{port}") };
        let ours = our_finds(&known, &host, port);
        assert_eq!(ours, ssh_keygen_finds(&file, &name), "lookup of {name}");
        assert_eq!(ours.len(), 1, "{name} has its one line");
        let other_port = if port == 22 { 2222 } else { 22 };
        assert!(known.lookup(&host, other_port).is_empty(), "{host}:{other_port} is not in the file");
    }
}
