//! `chom-floor`: the bare floor of bench/probe.sh. The least a Rust client
//! can do for a fleet-wide command: russh and tokio, one task per host, a
//! fixed limit on connections at once, host keys checked against a file,
//! output read into memory and counted. No cache, no keyring, no pacing,
//! no journal: what CHOM costs on top of russh is its rows minus this one.
//!
//! Usage: chom-floor --hosts FILE --known FILE --key FILE --user U
//!                   [--parallel N] [--timeout S] -- COMMAND
//! FILE of hosts: one address per line; known: "ADDR KEYTYPE BASE64".
//! Prints one JSON line (ok, failed, first errors, output bytes); exits 1
//! when a host failed.

use std::collections::HashMap;
use std::sync::Arc;
use std::time::{Duration, Instant};

use russh::client;
use russh::keys::{PrivateKeyWithHashAlg, PublicKey, PublicKeyOrCertificate};
use russh::ChannelMsg;
use tokio::sync::Semaphore;

struct Pinned(PublicKey);

impl client::Handler for Pinned {
    type Error = russh::Error;
    async fn check_server_key(&mut self, key: &PublicKeyOrCertificate) -> Result<bool, Self::Error> {
        Ok(key.public_key().key_data() == self.0.key_data())
    }
}

fn arg(args: &[String], name: &str) -> Option<String> {
    args.iter().position(|a| a == name).and_then(|i| args.get(i + 1)).cloned()
}

fn usage() -> ! {
    eprintln!(
        "usage: chom-floor --hosts FILE --known FILE --key FILE --user U [--parallel N] [--timeout S] -- COMMAND"
    );
    std::process::exit(2)
}

async fn one(
    addr: String,
    pinned: PublicKey,
    key: Arc<russh::keys::PrivateKey>,
    user: Arc<str>,
    config: Arc<client::Config>,
    command: Arc<str>,
) -> Result<usize, String> {
    let mut conn = client::connect(config, (addr.as_str(), 22), Pinned(pinned)).await.map_err(|e| e.to_string())?;
    let hash = conn.best_supported_rsa_hash().await.map_err(|e| e.to_string())?.flatten();
    let auth = conn.authenticate_publickey(&*user, PrivateKeyWithHashAlg::new(key, hash)).await;
    if !auth.map_err(|e| e.to_string())?.success() {
        return Err("authentication refused".into());
    }
    let mut channel = conn.channel_open_session().await.map_err(|e| e.to_string())?;
    channel.exec(true, command.as_bytes()).await.map_err(|e| e.to_string())?;
    let (mut out, mut status) = (Vec::new(), None);
    while let Some(msg) = channel.wait().await {
        match msg {
            ChannelMsg::Data { data } | ChannelMsg::ExtendedData { data, .. } => out.extend_from_slice(&data),
            ChannelMsg::ExitStatus { exit_status } => status = Some(exit_status),
            _ => {}
        }
    }
    let _ = conn.disconnect(russh::Disconnect::ByApplication, "", "en").await;
    match status {
        Some(0) => Ok(out.len()),
        other => Err(format!("exit status {other:?}")),
    }
}

fn main() {
    let args: Vec<String> = std::env::args().collect();
    let Some(dash) = args.iter().position(|a| a == "--") else { usage() };
    let (opts, command) = (&args[..dash], args[dash + 1..].join(" "));
    let (Some(hosts), Some(known), Some(key), Some(user)) =
        (arg(opts, "--hosts"), arg(opts, "--known"), arg(opts, "--key"), arg(opts, "--user"))
    else {
        usage()
    };
    let parallel: usize = arg(opts, "--parallel").and_then(|p| p.parse().ok()).unwrap_or(64);
    let timeout = Duration::from_secs(arg(opts, "--timeout").and_then(|t| t.parse().ok()).unwrap_or(60));
    let hosts: Vec<String> = std::fs::read_to_string(&hosts).expect("hosts file").lines().map(str::to_owned).collect();
    let known: HashMap<String, PublicKey> = std::fs::read_to_string(&known)
        .expect("known hosts file")
        .lines()
        .filter_map(|l| {
            let mut f = l.split_whitespace();
            let (addr, kind, blob) = (f.next()?, f.next()?, f.next()?);
            Some((addr.to_owned(), PublicKey::from_openssh(&format!("{kind} {blob}")).ok()?))
        })
        .collect();
    let key = Arc::new(russh::keys::load_secret_key(&key, None).expect("private key"));
    let config = Arc::new(client::Config::default());
    let (user, command): (Arc<str>, Arc<str>) = (user.into(), command.into());
    let rt = tokio::runtime::Builder::new_multi_thread().enable_all().build().expect("runtime");
    let start = Instant::now();
    let results: Vec<Result<usize, String>> = rt.block_on(async {
        let gate = Arc::new(Semaphore::new(parallel));
        let tasks: Vec<_> = hosts
            .into_iter()
            .map(|addr| {
                let Some(pinned) = known.get(&addr).cloned() else {
                    return tokio::spawn(async move { Err(format!("{addr}: not in the known hosts file")) });
                };
                let (gate, key, user, config, command) =
                    (gate.clone(), key.clone(), user.clone(), config.clone(), command.clone());
                tokio::spawn(async move {
                    let _slot = gate.acquire_owned().await.expect("semaphore");
                    match tokio::time::timeout(timeout, one(addr.clone(), pinned, key, user, config, command)).await {
                        Ok(r) => r.map_err(|e| format!("{addr}: {e}")),
                        Err(_) => Err(format!("{addr}: timed out")),
                    }
                })
            })
            .collect();
        let mut out = Vec::with_capacity(tasks.len());
        for t in tasks {
            out.push(t.await.unwrap_or_else(|e| Err(e.to_string())));
        }
        out
    });
    let failed: Vec<&String> = results.iter().filter_map(|r| r.as_ref().err()).collect();
    let bytes: usize = results.iter().filter_map(|r| r.as_ref().ok()).sum();
    println!(
        "{}",
        serde_json::json!({
            "ok": results.len() - failed.len(),
            "failed": failed.len(),
            "errors": failed.iter().take(3).collect::<Vec<_>>(),
            "output_bytes": bytes,
            "wall_s": start.elapsed().as_secs_f64(),
        })
    );
    std::process::exit(if failed.is_empty() { 0 } else { 1 });
}
