//! Generated configs, the same for every run, each compared with `ssh -G`
//! for several aliases: the odd combinations no hand-written test thinks of
//! (Match after Include, final pass with HostName, jumps against commands).

use super::*;

const HEADS: &[&str] = &[
    "Host web",
    "Host db web*",
    "Host *",
    "Host * !web",
    "Host *.example.com",
    "Host w?b WEB",
    "Host real.example.com",
    "Match host *.example.com",
    "Match host web,db",
    "Match originalhost web",
    "Match user deploy",
    "Match final",
    "Match canonical",
    "Match !final host db",
    "Match all",
    "Match final all",
    "Match !host web",
    "Host=db # comment",
    "Host \"*\" !db",
    "Match originalhost=WEB",
    "Match localuser root,!nobody host w*",
    "Match host \"web\" user ops,deploy",
];

const BODIES: &[&str] = &[
    "HostName %h.example.com",
    "HostName real.example.com",
    "HostName Real.Example.COM",
    "HostName 10.0.0.1",
    "Port 2200",
    "Port 2300",
    "User deploy",
    "User ops",
    "IdentityFile ~/.ssh/id_%h_%r",
    "IdentityFile ~/.ssh/shared",
    "IdentitiesOnly yes",
    "ProxyJump none",
    "ProxyJump bastion",
    "ProxyJump a@b:2200,c",
    "ProxyCommand nc %h %p",
    "ProxyCommand none",
    "IdentityAgent /run/%h.sock",
    "ForwardAgent yes",
    "Include inc/*",
    "Port=2500",
    "User = \"o p s\"",
    "HostName web # trailing",
    "IdentityFile none",
    "IdentityFile \"~/.ssh/with space\"",
    "ProxyJump none # quirk",
    "ProxyJump ssh://u@jump.example.:2201",
    "ProxyJump u@[::1]:2201",
    "HostName %p.bad",
    "CanonicalizeHostname no",
    "HostKeyAlias Key1",
    "IdentityFile ~/.ssh/%k",
];

const ALIASES: &[&str] = &["web", "db", "WEB", "real.example.com", "other"];

/// A fixed linear congruential sequence: reproducible without a crate.
struct Seq(u64);

impl Seq {
    fn pick<'a>(&mut self, from: &[&'a str]) -> &'a str {
        self.0 = self.0.wrapping_mul(6364136223846793005).wrapping_add(1442695040888963407);
        from[((self.0 >> 33) % from.len() as u64) as usize]
    }

    fn lines(&mut self, blocks: usize) -> String {
        let mut text = String::new();
        for _ in 0..blocks {
            text.push_str(self.pick(HEADS));
            text.push('\n');
            for _ in 0..2 {
                text.push_str("  ");
                text.push_str(self.pick(BODIES));
                text.push('\n');
            }
        }
        text
    }
}

#[test]
fn generated_configs_resolve_as_ssh_g_does() {
    if !ssh_installed() {
        eprintln!("ssh is not installed; nothing to compare with");
        return;
    }
    let mut seq = Seq(7);
    for round in 0..40 {
        let f = Fixture::new();
        let inc = seq.lines(1).replace("Include inc/*", "Port 2400");
        f.write(".ssh/inc/a.conf", &inc);
        let text = seq.lines(4);
        let config = f.config(&text);
        let cfg = f.load();
        // A line OpenSSH refuses fails the whole file there; CHOM warns and goes on.
        let refused = cfg.warnings().iter().any(|w| w.text.contains("OpenSSH refuses"));
        for alias in ALIASES {
            let ours = cfg.resolve(alias);
            let theirs = openssh_view(&config, alias, &f.ctx);
            match (&ours, &theirs) {
                (Ok(h), Ok(Some(view))) => {
                    let diff = differences(h, view, &f.ctx);
                    assert!(diff.is_empty(), "round {round}, {alias}: {diff:?}\n{text}\n-- inc/a.conf\n{inc}");
                }
                (_, Err(SshConfigError::OpensshRefused { .. })) if refused => {}
                (Err(_), Err(SshConfigError::OpensshRefused { .. })) => {}
                _ => panic!("round {round}, {alias}: CHOM {ours:?}, ssh {theirs:?}\n{text}\n-- inc/a.conf\n{inc}"),
            }
        }
    }
}
