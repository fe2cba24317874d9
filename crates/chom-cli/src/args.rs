//! The command line, as clap types. Values stay strings here: chom-core
//! validates them, so the CLI and the app give the same errors.

use std::path::PathBuf;

pub use crate::backup_args::BackupCommand;
use clap::{Args, Parser, Subcommand};

#[derive(Debug, Parser)]
#[command(
    name = "chom",
    version,
    about = "Manage a fleet of servers and their sites over SSH: inventory, keys, trust, probe, run, sites, deploys, SSL"
)]
pub struct Cli {
    /// Where CHOM keeps its database and logs.
    #[arg(long, global = true, env = "CHOM_DATA_DIR", value_name = "DIR")]
    pub data_dir: Option<PathBuf>,
    /// Machine-readable output on stdout (described by `chom schema`).
    #[arg(long, global = true)]
    pub json: bool,
    /// Colour: on a terminal only (auto; NO_COLOR turns it off), always, never.
    #[arg(long, global = true, value_enum, default_value_t = crate::paint::ColorChoice::Auto, value_name = "WHEN")]
    pub color: crate::paint::ColorChoice,
    /// Log to stderr too (-v info, -vv debug); RUST_LOG overrides.
    #[arg(short, long, global = true, action = clap::ArgAction::Count)]
    pub verbose: u8,
    /// Seconds to connect, exchange keys and log in, per server.
    #[arg(long, global = true, env = "CHOM_CONNECT_TIMEOUT", default_value_t = 10, value_name = "SECS")]
    pub connect_timeout: u64,
    /// Seconds a remote command (run, probe, a read) may run.
    #[arg(long, global = true, env = "CHOM_COMMAND_TIMEOUT", default_value_t = 60, value_name = "SECS")]
    pub command_timeout: u64,
    /// Seconds a server change may run (setup, site create, deploy, SSL):
    /// package installs and uploads take long, and their progress streams.
    #[arg(long, global = true, env = "CHOM_SCRIPT_TIMEOUT", default_value_t = 1800, value_name = "SECS")]
    pub script_timeout: u64,
    /// A limit of its own for one step of a server change (e.g. build=3600;
    /// repeat it for more steps). By default a step may run 5 minutes, a
    /// build or post-deploy hook 20, a certificate 10; an upload or package
    /// install as long as the whole change.
    #[arg(long, global = true, env = "CHOM_STEP_LIMITS", value_delimiter = ',', value_name = "STEP=SECS")]
    pub step_limit: Vec<String>,
    /// Connection attempts in flight at once across the fleet, at most: CHOM
    /// starts with a few and opens up while handshakes stay fast.
    #[arg(long, global = true, env = "CHOM_CONNECT_PARALLEL", default_value_t = 64, value_name = "N")]
    pub connect_parallel: usize,
    /// Retries of a connection attempt that failed before anything ran
    /// (refused, timed out, dropped), with exponential backoff and jitter.
    #[arg(long, global = true, env = "CHOM_CONNECT_RETRIES", default_value_t = 2, value_name = "N")]
    pub connect_retries: usize,
    /// Failed connections in a row after which a server is paused (its
    /// circuit breaker opens); 0 never pauses.
    #[arg(long, global = true, env = "CHOM_BREAKER_FAILURES", default_value_t = 5, value_name = "N")]
    pub breaker_failures: u32,
    /// Seconds a paused server is left alone before one trial connection.
    #[arg(long, global = true, env = "CHOM_BREAKER_PAUSE", default_value_t = 60, value_name = "SECS")]
    pub breaker_pause: u64,
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
    /// Copy a file from a server to this computer: streamed, resumed after
    /// a lost connection (and by the next run after a crash), SHA-256 checked.
    Download {
        server: String,
        /// The file's absolute path on the server.
        remote: String,
        /// Where it goes here (replaced only once all of it arrived and matched).
        local: std::path::PathBuf,
    },
    /// Copy a file from this computer to a server (as root, into a folder
    /// only root can write): streamed, resumed, SHA-256 checked.
    Upload {
        server: String,
        local: std::path::PathBuf,
        /// Its absolute path on the server.
        remote: String,
    },
    /// Recent jobs, or one job's per-server results and log.
    Jobs(JobsArgs),
    /// The audit log: who did what, when, where, with what result.
    Audit(AuditArgs),
    /// Sites (static, WordPress, Laravel) on the servers.
    #[command(subcommand)]
    Site(SiteCommand),
    /// Deploy a new release of a site: it goes live only if its health check passes.
    Deploy(DeployArgs),
    /// Switch a site back to an earlier release (instant).
    Rollback {
        domain: String,
        /// The release to go back to (default: the one before the live one).
        #[arg(long)]
        to: Option<String>,
    },
    /// HTTPS certificates (certbot on the server).
    #[command(subcommand)]
    Ssl(SslCommand),
    /// Backups of sites into their server's restic repository.
    #[command(subcommand)]
    Backup(BackupCommand),
    /// Bring servers and host keys in from ssh config, known_hosts, Ansible.
    #[command(subcommand)]
    Import(crate::import_args::ImportCommand),
    /// Write the fleet out for another tool (an Ansible inventory).
    #[command(subcommand)]
    Export(crate::import_args::ExportCommand),
    /// Print a shell's completion script: `chom completions bash > /etc/bash_completion.d/chom`.
    Completions {
        #[arg(value_enum)]
        shell: clap_complete::Shell,
    },
    /// Print the man page (roff), or write one page per command into DIR.
    Man {
        #[arg(long, value_name = "DIR")]
        dir: Option<PathBuf>,
    },
    /// The version of the `--json` output's schema, and where it is described.
    Schema,
}

#[derive(Debug, Subcommand)]
pub enum SiteCommand {
    /// Create a site (and deploy its first release when a source is given).
    Create(Box<SiteCreateArgs>),
    List {
        #[arg(long)]
        server: Option<String>,
    },
    /// The site as cached, with its recent deploys.
    Show {
        domain: String,
    },
    Enable {
        domain: String,
    },
    /// Stop serving the site (its files, database and certificate stay).
    Disable {
        domain: String,
    },
    /// Bring the site to CHOM's layout on its server (root's base, releases
    /// and secrets; a site made by an earlier CHOM is converted) and its
    /// nginx config and PHP-FPM pool up to date; stops at anything that
    /// looks tampered and says what it found.
    Repair {
        domain: String,
    },
    /// WordPress: let the site's dashboard update its plugins and themes
    /// (its user may then write them in the live release), or not (the
    /// default: they are root's, like all its code).
    DashboardUpdates {
        domain: String,
        #[arg(value_parser = ["on", "off"])]
        state: String,
    },
    /// Delete the site from its server: vhost, PHP pool, database, files, user.
    Delete {
        domain: String,
        /// Do not ask for confirmation.
        #[arg(long)]
        yes: bool,
    },
    /// The releases on the server and the live one (read from the server).
    Releases {
        domain: String,
    },
}

#[derive(Debug, Args)]
pub struct SiteCreateArgs {
    #[arg(allow_hyphen_values = true)]
    pub domain: String,
    #[arg(long, value_parser = ["static", "wordpress", "laravel"])]
    pub kind: String,
    /// Default: the server with the most free capacity (from the latest probe).
    #[arg(long)]
    pub server: Option<String>,
    /// PHP version for WordPress and Laravel sites (default 8.2).
    #[arg(long)]
    pub php: Option<String>,
    #[arg(long = "alias")]
    pub aliases: Vec<String>,
    #[command(flatten)]
    pub source: SourceArgs,
    /// WordPress: the site title (default: the domain).
    #[arg(long)]
    pub wp_title: Option<String>,
    /// WordPress: the admin user (default admin; its password goes to the OS keyring).
    #[arg(long)]
    pub wp_admin: Option<String>,
    /// WordPress: the admin's email address (default admin@DOMAIN).
    #[arg(long)]
    pub wp_email: Option<String>,
    /// WordPress: where the server downloads it (default: wordpress.org's latest.tar.gz).
    #[arg(long, value_name = "URL")]
    pub wp_url: Option<String>,
    /// WordPress: the download's SHA-1 (default: read from URL.sha1 next to it).
    #[arg(long, value_name = "HEX")]
    pub wp_sha1: Option<String>,
    /// Health check of the first release.
    #[command(flatten)]
    pub health: HealthArgs,
}

/// Where a release comes from. WordPress defaults to the official tarball,
/// downloaded by the server with its checksum checked.
#[derive(Debug, Args, Clone)]
pub struct SourceArgs {
    /// A folder on this machine, streamed over SSH.
    #[arg(long, value_name = "PATH", conflicts_with_all = ["tarball", "git"])]
    pub from: Option<PathBuf>,
    /// A .tar.gz on this machine.
    #[arg(long, value_name = "FILE", conflicts_with = "git")]
    pub tarball: Option<PathBuf>,
    /// Leading folders to drop from the tarball (default: 1 for WordPress, else 0).
    #[arg(long, value_name = "N")]
    pub strip: Option<u32>,
    /// A git repository the server fetches.
    #[arg(long, value_name = "URL", allow_hyphen_values = true)]
    pub git: Option<String>,
    /// Branch, tag or commit (with --git; default main).
    #[arg(long = "ref", value_name = "REF", allow_hyphen_values = true)]
    pub git_ref: Option<String>,
}

#[derive(Debug, Args, Clone)]
pub struct HealthArgs {
    /// Path the health check requests through nginx.
    #[arg(long, default_value = "/", allow_hyphen_values = true)]
    pub health_path: String,
    /// Text the page must contain to pass.
    #[arg(long, value_name = "TEXT")]
    pub expect: Option<String>,
}

#[derive(Debug, Args)]
pub struct DeployArgs {
    pub domain: String,
    #[command(flatten)]
    pub source: SourceArgs,
    /// Script in the release run (as the site user) before the health check.
    #[arg(long, value_name = "PATH", allow_hyphen_values = true)]
    pub build_hook: Option<String>,
    /// Script in the release run after it went live.
    #[arg(long, value_name = "PATH", allow_hyphen_values = true)]
    pub post_hook: Option<String>,
    #[command(flatten)]
    pub health: HealthArgs,
    /// Releases kept on the server.
    #[arg(long, default_value_t = 5)]
    pub keep: u32,
}

#[derive(Debug, Subcommand)]
pub enum SslCommand {
    /// Get a certificate for the site (and its aliases) and serve HTTPS.
    Issue {
        domain: String,
        /// Let's Encrypt's staging directory (untrusted test certificates).
        #[arg(long, conflicts_with = "acme_url")]
        staging: bool,
        /// Another ACME directory URL.
        #[arg(long, value_name = "URL")]
        acme_url: Option<String>,
        /// PEM file of the CA behind --acme-url's HTTPS, when not a public one.
        #[arg(long, value_name = "FILE", requires = "acme_url")]
        acme_ca: Option<PathBuf>,
        #[arg(long)]
        email: Option<String>,
    },
    /// Expiry of each site's certificate; exit 1 when one has under 14 days left.
    Status { domain: Option<String> },
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
    /// The keys your ssh-agent (SSH_AUTH_SOCK) holds, and which CHOM key each is.
    Agent,
    /// Use a key your ssh-agent holds as key NAME: the agent signs each
    /// login; nothing of it goes into the keyring.
    AddAgent {
        name: String,
        /// "SHA256:...", as `chom key agent` or `ssh-add -l` shows it.
        fingerprint: String,
    },
    /// Replace key OLD by key NEW on the selected servers that log in with
    /// OLD: add NEW, prove a fresh login with it alone, switch CHOM to it,
    /// remove OLD. Run it again to finish servers that were down; the
    /// journal keeps each server's step.
    Rotate {
        old: String,
        new: String,
        #[command(flatten)]
        select: SelectArgs,
    },
    /// Where each server of the rotations from or to key NAME stands.
    Rotations {
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
    /// Close a paused server's circuit breaker: the next operation connects at once.
    Resume {
        name: String,
    },
    /// Show the server's host key fingerprint and pin it once accepted.
    Trust(TrustArgs),
    /// Prepare the server for sites: nginx, PHP-FPM, MariaDB, certbot, ufw,
    /// SSH hardening and a deploy user. Safe to run again.
    Setup {
        name: String,
        #[arg(long, default_value = chom_core::validate::PhpVersion::DEFAULT)]
        php: String,
    },
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
    /// A server it is reached through (OpenSSH's ProxyJump), itself in the inventory.
    #[arg(long)]
    pub jump: Option<String>,
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
    /// The server it is reached through; an empty value: reached directly.
    #[arg(long)]
    pub jump: Option<String>,
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
    /// Show one job with its per-server results and its log.
    pub id: Option<chom_core::JobId>,
    #[arg(long, default_value_t = 20)]
    pub limit: u32,
    /// Only log lines containing TEXT (case-insensitive); without a job
    /// id, searches every job's log.
    #[arg(long, value_name = "TEXT")]
    pub grep: Option<String>,
    /// With a job id: print its log as it grows until the job ends (a job
    /// the app or another `chom` runs, too).
    #[arg(long)]
    pub follow: bool,
    /// With the id of an interrupted deploy or setup: run it again, once
    /// its server said what it was left with.
    #[arg(long, conflicts_with = "follow")]
    pub resume: bool,
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
