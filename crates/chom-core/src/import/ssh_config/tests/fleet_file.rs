//! A config the size of a real fleet's: 1,000 hosts over ten included
//! files, with the shapes operators use (negated defaults, `Match final
//! all`, two-hop jumps, identities with `~` and `%d`), every host compared
//! with `ssh -G` for host, port, user, identity and jump.

use super::*;

#[test]
fn a_thousand_host_config_agrees_with_ssh_g_on_every_host() {
    let fx = Fixture::new();
    fx.config(
        "Include conf.d/*.conf\n\
         Host bastion-a bastion-b\n  User jump\n  HostName %h.edge.example\n\
         Host *.prod !db*.prod\n  User deploy\n  IdentityFile ~/.ssh/id_prod\n\
         Host *\n  Port 22\n\
         Match final all\n  User fallback\n  IdentityFile %d/.ssh/id_last\n",
    );
    let mut aliases = Vec::new();
    for file in 0..10usize {
        let mut text = String::new();
        for n in 0..100 {
            let i = file * 100 + n;
            let alias = match i % 4 {
                0 => format!("web{i}.prod"),
                1 => format!("db{i}.prod"),
                2 => format!("cache{i}.stage"),
                _ => format!("node{i}"),
            };
            text.push_str(&format!("Host {alias}\n  HostName 10.{}.{}.1\n", i / 250, i % 250));
            if i.is_multiple_of(3) {
                text.push_str(&format!("  Port {}\n", 2200 + i % 7));
            }
            if i.is_multiple_of(10) {
                text.push_str("  ProxyJump bastion-a,ops@bastion-b:2222\n");
            }
            if i % 6 == 1 {
                text.push_str(&format!("  IdentityFile %d/.ssh/keys/{alias}\n"));
            }
            if i % 8 == 2 {
                text.push_str("  User %r-admin\n");
            }
            aliases.push(alias);
        }
        fx.write(&format!(".ssh/conf.d/{file:02}.conf"), &text);
    }
    let config = fx.load();
    // One ssh -G per host, each reading the whole fleet: four at a time.
    std::thread::scope(|s| {
        for chunk in aliases.chunks(250) {
            let (fx, config) = (&fx, &config);
            s.spawn(move || {
                for alias in chunk {
                    let host = config.resolve(alias).unwrap();
                    assert!(host.hostname.starts_with("10."), "{alias}: {host:?}");
                    fx.agree(alias, &host);
                }
            });
        }
    });
    let jumped = aliases.iter().filter(|a| !config.resolve(a).unwrap().proxy_jump.is_empty()).count();
    assert_eq!((aliases.len(), jumped), (1000, 100));
}
