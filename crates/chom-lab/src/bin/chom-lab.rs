//! `chom-lab up|down|authorize|rekey|web-up|web-down`: a detached lab fleet for benchmarks and
//! manual testing, stopped by the PIDs recorded in DIR/lab.json.

use std::path::PathBuf;

use clap::{Parser, Subcommand};

#[derive(Parser)]
#[command(name = "chom-lab", about = "Real OpenSSH servers on 127.S.x.y for tests and benchmarks")]
struct Cli {
    #[command(subcommand)]
    command: Cmd,
}

#[derive(Subcommand)]
enum Cmd {
    /// Start N hosts and leave them running.
    Up {
        #[arg(long)]
        hosts: usize,
        #[arg(long, default_value_t = 60)]
        subnet: u8,
        #[arg(long)]
        dir: PathBuf,
    },
    /// Stop the hosts of a lab by PID and remove its directory.
    Down {
        #[arg(long)]
        dir: PathBuf,
    },
    /// Restart host INDEX (0-based) of a lab with a new host key.
    Rekey {
        #[arg(long)]
        dir: PathBuf,
        #[arg(long)]
        index: usize,
    },
    /// Start N web hosts (198.18.I.2, I from --first) with sshd, nginx,
    /// PHP-FPM and MariaDB, root logging in with the key in --root-key
    /// (a .pub file); with --pebble also the local ACME server.
    WebUp {
        #[arg(long, default_value_t = 1)]
        hosts: usize,
        #[arg(long, default_value_t = 100)]
        first: u8,
        #[arg(long)]
        root_key: PathBuf,
        #[arg(long)]
        pebble: bool,
        #[arg(long)]
        dir: PathBuf,
    },
    /// Stop the web hosts (and pebble) of DIR and remove their files.
    WebDown {
        #[arg(long)]
        dir: PathBuf,
    },
    /// Point DOMAIN at web host INDEX (0-based) of DIR in pebble's DNS, so
    /// pebble validates that host's HTTP-01 challenge.
    PebbleA {
        #[arg(long)]
        dir: PathBuf,
        #[arg(long)]
        domain: String,
        #[arg(long, default_value_t = 0)]
        index: usize,
    },
    /// Authorize a public key on every host of a lab.
    Authorize {
        #[arg(long)]
        dir: PathBuf,
        #[arg(long)]
        key: String,
    },
}

fn main() {
    let result = match Cli::parse().command {
        Cmd::Up { hosts, subnet, dir } => chom_lab::Lab::start_in(&dir, subnet, hosts).map(|lab| {
            for h in lab.hosts() {
                println!("{} {} {}", h.name, h.addr, h.host_key_fingerprint);
            }
            lab.detach();
        }),
        Cmd::WebUp { hosts, first, root_key, pebble, dir } => std::fs::read_to_string(&root_key)
            .map_err(|e| chom_lab::LabError::Command {
                what: format!("reading {}", root_key.display()),
                detail: e.to_string(),
            })
            .and_then(|key| chom_lab::WebLab::start_in(&dir, first, hosts, &key))
            .and_then(|mut lab| {
                if pebble {
                    let p = lab.start_pebble()?;
                    println!("pebble {} {}", chom_lab::PEBBLE_DIRECTORY, p.ca_bundle.display());
                }
                for h in lab.hosts() {
                    println!("{} {}", h.name, h.addr);
                }
                lab.detach();
                Ok(())
            }),
        Cmd::WebDown { dir } => chom_lab::WebLab::attach(&dir).map(|lab| lab.stop()),
        Cmd::PebbleA { dir, domain, index } => {
            chom_lab::WebLab::attach(&dir).and_then(|lab| lab.pebble_point(&domain, index))
        }
        Cmd::Down { dir } => chom_lab::stop_detached(&dir).map(|n| eprintln!("stopped {n} hosts")),
        Cmd::Authorize { dir, key } => chom_lab::authorize(&dir, &key),
        Cmd::Rekey { dir, index } => chom_lab::Lab::attach(&dir).and_then(|mut lab| {
            lab.restart_with_new_host_key(index)?;
            let h = &lab.hosts()[index];
            println!("{} {} {}", h.name, h.addr, h.host_key_fingerprint);
            Ok(())
        }),
    };
    if let Err(e) = result {
        eprintln!("chom-lab: {e}");
        std::process::exit(1);
    }
}
