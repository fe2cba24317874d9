//! The command line, as clap types. Values stay strings here: chom-core
//! validates them, so the CLI and the app give the same errors.

use std::path::PathBuf;

use clap::{Args, Parser, Subcommand};

#[derive(Debug, Parser)]
#[command(name = "chom", version, about = "Manage a fleet of servers over SSH: inventory, keys, trust, probe, run")]
pub struct Cli {
    /// Where CHOM keeps its database and logs.
    #[arg(long, global = true, env = "CHOM_DATA_DIR", value_name = "DIR")]
    pub data_dir: Option<PathBuf>,
    /// Machine-readable output on stdout.
    #[arg(long, global = true)]
    pub json: bool,
    /// Log to stderr too (-v info, -vv debug); RUST_LOG overrides.
    #[arg(short, long, global = true, action = clap::ArgAction::Count)]
    pub verbose: u8,
    /// Seconds to connect, exchange keys and log in, per server.
    #[arg(long, global = true, env = "CHOM_CONNECT_TIMEOUT", default_value_t = 10, value_name = "SECS")]
    pub connect_timeout: u64,
    /// Seconds a remote command may run.
    #[arg(long, global = true, env = "CHOM_COMMAND_TIMEOUT", default_value_t = 60, value_name = "SECS")]
    pub command_timeout: u64,
    /// Connection attempts in flight at once across the fleet.
    #[arg(long, global = true, env = "CHOM_CONNECT_PARALLEL", default_value_t = 64, value_name = "N")]
    pub connect_parallel: usize,
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// SSH keys (private halves live only in the OS keyring).
    #[command(subcommand)]
    Key(KeyCommand),
    /// The server inventory and host-key trust.
    #[command(subcommand)]
    Server(ServerCommand),
    /// Probe servers: OS, uptime, load, CPU, memory, disk, web services.
    Probe(SelectArgs),
    /// Run a shell command on servers: `chom run --all -- uptime`.
    Run(RunArgs),
    /// Recent jobs, or one job's per-server results.
    Jobs(JobsArgs),
    /// The audit log: who did what, when, where, with what result.
    Audit(AuditArgs),
}

#[derive(Debug, Subcommand)]
pub enum KeyCommand {
    /// Generate an ed25519 key.
    Generate {
        name: String,
    },
    /// Import an OpenSSH private key file (ed25519, ECDSA, RSA).
    Import {
        name: String,
        file: PathBuf,
        /// Read the passphrase from stdin instead of prompting.
        #[arg(long)]
        passphrase_stdin: bool,
    },
    List,
    /// Public key and fingerprint.
    Show {
        name: String,
    },
    /// Print the public key line, for authorized_keys.
    ExportPublic {
        name: String,
    },
    /// Delete a key no server uses (also from the OS keyring).
    Delete {
        name: String,
    },
}

#[derive(Debug, Subcommand)]
pub enum ServerCommand {
    Add(AddArgs),
    List(ListArgs),
    Show {
        name: String,
    },
    Edit(EditArgs),
    Remove {
        name: String,
    },
    /// Show the server's host key fingerprint and pin it once accepted.
    Trust(TrustArgs),
    /// Install the server's key in the user's ~/.ssh/authorized_keys over a
    /// one-time password login, like ssh-copy-id (the password is not kept).
    CopyKey {
        name: String,
        /// Read the password from stdin instead of prompting.
        #[arg(long)]
        password_stdin: bool,
    },
}

#[derive(Debug, Args)]
pub struct AddArgs {
    pub name: String,
    #[arg(long, allow_hyphen_values = true)]
    pub host: String,
    #[arg(long, allow_hyphen_values = true)]
    pub port: Option<String>,
    #[arg(long, allow_hyphen_values = true)]
    pub user: Option<String>,
    #[arg(long)]
    pub key: String,
    #[arg(long = "tag")]
    pub tags: Vec<String>,
    #[arg(long)]
    pub group: Option<String>,
    #[arg(long)]
    pub notes: Option<String>,
}

#[derive(Debug, Args)]
pub struct ListArgs {
    #[arg(long)]
    pub tag: Option<String>,
    #[arg(long)]
    pub group: Option<String>,
    /// Substring of the name or host.
    #[arg(long)]
    pub search: Option<String>,
}

#[derive(Debug, Args)]
pub struct EditArgs {
    pub name: String,
    /// New name.
    #[arg(long)]
    pub rename: Option<String>,
    #[arg(long, allow_hyphen_values = true)]
    pub host: Option<String>,
    #[arg(long, allow_hyphen_values = true)]
    pub port: Option<String>,
    #[arg(long, allow_hyphen_values = true)]
    pub user: Option<String>,
    #[arg(long)]
    pub key: Option<String>,
    #[arg(long = "add-tag")]
    pub add_tags: Vec<String>,
    #[arg(long = "remove-tag")]
    pub remove_tags: Vec<String>,
    /// New group; an empty value removes it.
    #[arg(long)]
    pub group: Option<String>,
    #[arg(long)]
    pub notes: Option<String>,
}

#[derive(Debug, Args)]
pub struct TrustArgs {
    pub name: String,
    /// Accept only if the server offers exactly this fingerprint (SHA256:...).
    #[arg(long, value_name = "FINGERPRINT")]
    pub accept: Option<String>,
    /// Accept whatever key the server offers, without checking it. Only for
    /// a server with no pinned key yet; a changed key still needs --accept.
    #[arg(long)]
    pub trust_on_first_use: bool,
}

#[derive(Debug, Args, Clone)]
pub struct SelectArgs {
    /// Server names.
    pub names: Vec<String>,
    #[arg(long)]
    pub tag: Option<String>,
    #[arg(long)]
    pub group: Option<String>,
    #[arg(long)]
    pub all: bool,
}

#[derive(Debug, Args)]
pub struct RunArgs {
    #[command(flatten)]
    pub select: SelectArgs,
    /// The command, after `--`.
    #[arg(last = true, required = true)]
    pub command: Vec<String>,
}

#[derive(Debug, Args)]
pub struct JobsArgs {
    /// Show one job with its per-server results.
    pub id: Option<i64>,
    #[arg(long, default_value_t = 20)]
    pub limit: u32,
}

#[derive(Debug, Args)]
pub struct AuditArgs {
    /// Action prefix, e.g. `server` or `trust.accept`.
    #[arg(long)]
    pub action: Option<String>,
    #[arg(long)]
    pub server: Option<String>,
    #[arg(long, default_value_t = 50)]
    pub limit: u32,
}
