//! `chom import` and `chom export`.

use std::path::PathBuf;

use clap::{Subcommand, ValueEnum};

#[derive(Debug, Subcommand)]
pub enum ImportCommand {
    /// Servers from an OpenSSH config (default ~/.ssh/config, with
    /// /etc/ssh/ssh_config after it, as ssh reads them), each compared with
    /// `ssh -G`. Prints the plan, then applies it in one transaction.
    SshConfig {
        file: Option<PathBuf>,
        /// Show what would be added, updated and skipped; change nothing.
        #[arg(long)]
        dry_run: bool,
    },
    /// Host keys from a known_hosts file (default ~/.ssh/known_hosts) for the
    /// servers CHOM has: pins where none is pinned, shows conflicts (never
    /// replaces a pinned key), refuses @revoked keys for good.
    KnownHosts {
        file: Option<PathBuf>,
        #[arg(long)]
        dry_run: bool,
    },
    /// Servers from an Ansible inventory (INI or YAML); its groups become tags.
    Ansible {
        file: PathBuf,
        #[arg(long)]
        dry_run: bool,
    },
}

#[derive(Debug, Subcommand)]
pub enum ExportCommand {
    /// The fleet (or a tag or group of it) as an Ansible inventory, on stdout.
    Ansible {
        #[arg(long)]
        tag: Option<String>,
        #[arg(long)]
        group: Option<String>,
        #[arg(long, value_enum, default_value_t = InventoryFormat::Yaml)]
        format: InventoryFormat,
    },
}

#[derive(Debug, Clone, Copy, ValueEnum)]
pub enum InventoryFormat {
    Yaml,
    Ini,
}
