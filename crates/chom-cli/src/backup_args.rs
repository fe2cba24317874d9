//! `chom backup ...`: its subcommands and their options (the rest of the
//! command line is in args.rs).

use clap::Subcommand;

#[derive(Debug, Subcommand)]
pub enum BackupCommand {
    /// Back up a site: its live release, shared files, vhost, pool and database.
    Create { domain: String },
    /// Every site's newest good and restore-tested backup and its schedule,
    /// from the cache: which sites have no good backup younger than their
    /// policy (a day when scheduled, a week otherwise).
    Overview {
        #[arg(long)]
        server: Option<String>,
    },
    /// One backup, from the cache.
    Show { id: chom_core::BackupId },
    /// Backups from the local cache, newest first (good: checked since made).
    List {
        /// Only this site's.
        domain: Option<String>,
        #[arg(long, default_value_t = 50)]
        limit: u32,
    },
    /// Restore a backup on its server into scratch copies, check and count
    /// them, remove them: the backup is then restore-tested. The site is
    /// not touched.
    Drill { id: chom_core::BackupId },
    /// Restore a backup into its site: the release, shared files and
    /// database (or --database alone) built beside the live ones, checked,
    /// switched in and checked live. Anything failing leaves the site as
    /// it was; `chom backup undo DOMAIN` switches back afterwards. With
    /// --path, one file or folder only, put beside the site's own.
    Restore {
        id: chom_core::BackupId,
        /// Only the database; the site's files stay as they are.
        #[arg(long)]
        database: bool,
        /// Only this file or folder, as the site had it (shared/... or
        /// current/...), into shared/restored/ID (or --into); nothing is
        /// replaced, the live release and the database are not touched.
        #[arg(long, conflicts_with_all = ["database", "to"])]
        path: Option<String>,
        /// The folder of shared/ to put --path in (made as the site's user).
        #[arg(long, requires = "path")]
        into: Option<String>,
        /// The page the restored site must answer (before and after the switch).
        #[arg(long, default_value = "/")]
        health_path: String,
        /// Text that page must contain.
        #[arg(long)]
        health_text: Option<String>,
        /// Restore into this other site instead (made, of the backup's kind,
        /// unless it exists; it keeps its own database credentials).
        #[arg(long, conflicts_with = "database")]
        to: Option<String>,
        /// The server for the --to site when it is made (default: the backup's).
        #[arg(long, requires = "to")]
        server: Option<String>,
    },
    /// Copy a backup to this computer: its release and shared files as tar
    /// files, its database as SQL, each checked by SHA-256.
    Download {
        id: chom_core::BackupId,
        /// The folder to put them in (made if missing).
        #[arg(long)]
        to: std::path::PathBuf,
    },
    /// Restore a backup downloaded here (chom backup download) into a site,
    /// made unless it exists; it keeps its own database credentials.
    Upload {
        folder: std::path::PathBuf,
        #[arg(long)]
        to: String,
        /// The server for the site when it is made.
        #[arg(long)]
        server: Option<String>,
        #[arg(long, default_value = "/")]
        health_path: String,
        #[arg(long)]
        health_text: Option<String>,
    },
    /// Switch a site back to what served before its last restore (run
    /// again, it switches to the restored state).
    Undo { domain: String },
    /// Back a site up every day on its server (cron runs it there, desktop
    /// on or not), applying the --keep-* retention after each run; --off
    /// removes the schedule. Without --at or --off: the schedules as cached
    /// (every site's without a domain), with their last runs and whether
    /// any was missed.
    Schedule {
        domain: Option<String>,
        /// The time of day, HH:MM in the server's own time.
        #[arg(long, conflicts_with = "off")]
        at: Option<String>,
        #[arg(long, requires = "at")]
        keep_last: Option<u32>,
        #[arg(long, requires = "at")]
        keep_daily: Option<u32>,
        #[arg(long, requires = "at")]
        keep_weekly: Option<u32>,
        #[arg(long, requires = "at")]
        keep_monthly: Option<u32>,
        /// When a run also drills its new backup: a weekday (mon ... sun),
        /// daily, or off. Default: weekly, sites of a server taking turns.
        #[arg(long, requires = "at")]
        drill: Option<String>,
        #[arg(long)]
        off: bool,
    },
    /// Keep a site's backups by restic's rules and remove the others
    /// (files and database together), then prune. The newest
    /// restore-tested backup always stays. --dry-run shows the plan only.
    Forget {
        domain: String,
        #[arg(long)]
        keep_last: Option<u32>,
        #[arg(long)]
        keep_daily: Option<u32>,
        #[arg(long)]
        keep_weekly: Option<u32>,
        #[arg(long)]
        keep_monthly: Option<u32>,
        /// Show what would be kept and removed; remove nothing.
        #[arg(long)]
        dry_run: bool,
    },
    /// Read a server's backup repository back (restic check); backups made
    /// before a check that passed are listed good.
    #[command(alias = "verify")]
    Check {
        server: String,
        /// Percent of the repository's data to read back.
        #[arg(long, default_value_t = 100, value_parser = clap::value_parser!(u8).range(1..=100))]
        read: u8,
    },
}
