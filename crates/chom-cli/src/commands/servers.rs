use std::io::{BufRead, IsTerminal, Write};

use chom_core::validate::{GroupName, Tag};
use chom_core::{Acceptance, Chom, Error, HostKeyCheck, Result, ServerEdit, ServerFilter, ServerInput, ServerRow};

use crate::args::{ServerCommand, TrustArgs};
use crate::output::{ago, bytes, clean, json, table};

pub async fn run(chom: &Chom, cmd: ServerCommand, as_json: bool) -> Result<i32> {
    match cmd {
        ServerCommand::Add(a) => {
            let view = chom.servers().add_server(&ServerInput {
                name: a.name,
                host: a.host,
                port: a.port,
                user: a.user,
                key: Some(a.key),
                tags: a.tags,
                group: a.group,
                notes: a.notes,
                jump: a.jump,
            })?;
            if as_json {
                json(&view);
            } else {
                println!("added {} ({}@{}:{})", view.name, view.user, view.host, view.port);
                println!("next: check and pin its host key with `chom server trust {}`", view.name);
            }
        }
        ServerCommand::List(l) => {
            let filter = ServerFilter {
                tag: l.tag.as_deref().map(Tag::parse).transpose()?,
                group: l.group.as_deref().map(GroupName::parse).transpose()?,
                search: l.search,
            };
            if as_json {
                json(&chom.servers().list_servers(&filter)?)
            } else {
                list(&chom.servers().server_rows(&filter)?)
            }
        }
        ServerCommand::Show { name } => {
            let d = chom.servers().server_detail(&name)?;
            if as_json {
                json(&d);
            } else {
                show(&d);
            }
        }
        ServerCommand::Edit(e) => {
            let view = chom
                .servers()
                .edit_server(
                    &e.name,
                    &ServerEdit {
                        rename: e.rename,
                        host: e.host,
                        port: e.port,
                        user: e.user,
                        key: e.key,
                        add_tags: e.add_tags,
                        remove_tags: e.remove_tags,
                        group: e.group,
                        notes: e.notes,
                        jump: e.jump,
                    },
                )
                .await?;
            if as_json {
                json(&view)
            } else {
                println!("updated {}", view.name)
            }
        }
        ServerCommand::Remove { name } => {
            chom.servers().remove_server(&name)?;
            if as_json {
                json(&serde_json::json!({ "removed": name }));
            } else {
                println!("removed {name} from the inventory (nothing was changed on the server)");
            }
        }
        ServerCommand::Resume { name } => {
            chom.servers().resume_server(&name)?;
            if as_json {
                json(&serde_json::json!({ "resumed": name }));
            } else {
                println!("{name} resumed: the next operation connects to it at once");
            }
        }
        ServerCommand::Trust(t) => return trust(chom, t, as_json).await,
        ServerCommand::Setup { name, php } => {
            let r = chom
                .servers()
                .setup_server(&name, &php, &super::control(crate::output::web_progress(!as_json)))
                .await?;
            if as_json {
                json(&r);
            } else if r.changed.is_empty() {
                println!("{name} is set up already: nothing changed ({} checks)", r.unchanged.len());
            } else {
                println!("{name} set up: {} changed, {} already right", r.changed.len(), r.unchanged.len());
                if r.login_verified {
                    println!("a fresh SSH login with the hardened sshd configuration worked");
                }
            }
        }
        ServerCommand::CopyKey { name, password_stdin } => {
            let password =
                crate::secret_input::read(password_stdin, &format!("Password for {name} (used once, not stored): "))?;
            chom.servers().install_key_with_password(&name, &password).await?;
            if as_json {
                json(&serde_json::json!({ "server": name, "installed": true }));
            } else {
                println!("installed the key of {name} in the login user's ~/.ssh/authorized_keys");
            }
        }
    }
    Ok(0)
}

fn list(servers: &[ServerRow]) {
    let rows: Vec<Vec<String>> = servers
        .iter()
        .map(|s| {
            let status = s.status.as_str();
            vec![
                s.name.clone(),
                format!("{}@{}:{}", s.user, s.host, s.port),
                s.group.clone().unwrap_or_default(),
                s.tags.clone(),
                if s.paused() { format!("{status} (paused)") } else { status.to_owned() },
                ago(s.last_seen),
                s.load1.map(hundredths).unwrap_or_default(),
                s.mem_used_pct.map(percent).unwrap_or_default(),
                s.disk_used_pct.map(percent).unwrap_or_default(),
            ]
        })
        .collect();
    table(&["NAME", "ADDRESS", "GROUP", "TAGS", "STATUS", "LAST SEEN", "LOAD", "MEM", "DISK"], &rows);
}

// Integer formatting: at 50,000 rows, `{:.2}` and `{:.0}` on floats were
// a tenth of the listing's time.
fn hundredths(x: f64) -> String {
    let c = (x * 100.0).round() as i64;
    format!("{}{}.{:02}", if c < 0 { "-" } else { "" }, c.abs() / 100, c.abs() % 100)
}

fn percent(x: f64) -> String {
    format!("{}%", x.round() as i64)
}

fn show(d: &chom_core::ServerDetail) {
    let s = &d.server;
    println!("name:       {}", s.name);
    println!("address:    {}@{}:{}", s.user, s.host, s.port);
    println!("key:        {}", s.key.as_deref().unwrap_or("-"));
    println!("group:      {}", s.group.as_deref().unwrap_or("-"));
    println!("tags:       {}", s.tags.join(", "));
    println!("status:     {} (last seen {})", s.status, ago(s.last_seen));
    match (s.paused_until, s.connect_failures) {
        (Some(until), n) => println!(
            "breaker:    open: paused after {n} failed connections in a row, until {} (chom server resume {})",
            until.format("%F %T UTC"),
            s.name
        ),
        (None, 0) => println!("breaker:    closed"),
        (None, n) => println!("breaker:    closed, {n} failed connections in a row"),
    }
    match &d.host_key {
        Some(k) => {
            println!("host key:   {} {} (pinned {})", k.algorithm, k.fingerprint, k.first_seen.format("%F %T UTC"))
        }
        None => println!("host key:   not trusted yet: run `chom server trust {}`", s.name),
    }
    if !s.notes.is_empty() {
        println!("notes:      {}", s.notes);
    }
    if let Some(p) = &s.probe {
        if !p.ok {
            println!("probed:     {} - failed: {}", ago(Some(p.at)), clean(p.error.as_deref().unwrap_or("")));
        }
    }
    if let (Some(f), Some(p)) = (&d.facts, &s.probe) {
        let when = if p.ok { "probed:    " } else { "last good: " };
        println!("{when} {}", ago(p.facts_at));
        println!("hostname:   {}", clean(&f.hostname));
        println!("os:         {} (kernel {})", clean(&f.os), clean(&f.kernel));
        println!("uptime:     {} h", f.uptime_s / 3600);
        println!("load:       {:.2} {:.2} {:.2} on {} CPUs", f.load[0], f.load[1], f.load[2], f.cpus);
        println!("memory:     {} available of {}", bytes(f.mem_available), bytes(f.mem_total));
        println!("swap:       {} free of {}", bytes(f.swap_free), bytes(f.swap_total));
        println!("disk /:     {} free of {}", bytes(f.disk_free), bytes(f.disk_total));
        let svc: Vec<String> = f.services.iter().map(|(k, v)| format!("{k} {}", v.as_str())).collect();
        println!("services:   {}", svc.join(", "));
    }
}

/// Shows the offered fingerprint and pins it only on an explicit yes: a
/// typed "yes" on a terminal, a matching --accept, or --trust-on-first-use
/// for a server with nothing pinned yet.
async fn trust(chom: &Chom, t: TrustArgs, as_json: bool) -> Result<i32> {
    let check = chom.servers().check_host_key(&t.name).await?;
    let offered = &check.offered;
    if check.trusted {
        if as_json {
            json(
                &serde_json::json!({ "server": check.server, "fingerprint": offered.fingerprint, "pinned": true, "changed": false }),
            );
        } else {
            println!("{} already trusted: {} {}", check.server, offered.algorithm, offered.fingerprint);
        }
        return Ok(0);
    }
    if !as_json {
        describe(&check);
    }
    let acceptance = if let Some(fp) = &t.accept {
        Acceptance::Fingerprint(fp)
    } else if t.trust_on_first_use {
        Acceptance::FirstUse
    } else if std::io::stdin().is_terminal() && !as_json {
        if !ask_yes()? {
            chom.servers().reject_host_key(&t.name, offered)?;
            println!("not trusted; nothing was pinned");
            return Ok(1);
        }
        // Pin only the key that was shown: if it changed meanwhile, this fails.
        Acceptance::Fingerprint(&offered.fingerprint)
    } else {
        return Err(Error::Usage(format!(
            "no terminal to confirm the host key of {}: verify {} with the provider, then run \
             `chom server trust {} --accept {}`",
            check.server, offered.fingerprint, check.server, offered.fingerprint
        )));
    };
    let pinned = chom.servers().accept_host_key(&t.name, acceptance).await?;
    if as_json {
        json(&serde_json::json!({ "server": check.server, "fingerprint": pinned.fingerprint, "pinned": true,
            "changed": check.pinned.is_some() }));
    } else {
        println!("pinned {} {} for {}", pinned.algorithm, pinned.fingerprint, check.server);
    }
    Ok(0)
}

fn describe(check: &HostKeyCheck) {
    let o = &check.offered;
    match &check.pinned {
        None => {
            println!("{} has not been trusted yet. It offers this host key:", check.server);
            println!("  {} {}", o.algorithm, o.fingerprint);
            println!("Compare it with the fingerprint from your provider's console (ssh-keygen -lf /etc/ssh/ssh_host_{}_key.pub on the server).", short_alg(&o.algorithm));
        }
        Some(p) => {
            println!("WARNING: the host key of {} has CHANGED.", check.server);
            println!("  pinned:  {} {}", p.algorithm, p.fingerprint);
            println!("  offered: {} {}", o.algorithm, o.fingerprint);
            println!("This is expected only after a reinstall or a key rotation. Otherwise someone may be intercepting the connection.");
        }
    }
}

fn short_alg(alg: &str) -> &str {
    match alg {
        a if a.contains("ed25519") => "ed25519",
        a if a.starts_with("ecdsa") => "ecdsa",
        _ => "rsa",
    }
}

fn ask_yes() -> Result<bool> {
    print!("Trust this key? Type yes to accept: ");
    let _ = std::io::stdout().flush();
    let mut line = String::new();
    std::io::stdin().lock().read_line(&mut line).map_err(|e| Error::Usage(format!("cannot read the answer: {e}")))?;
    Ok(line.trim().eq_ignore_ascii_case("yes"))
}
