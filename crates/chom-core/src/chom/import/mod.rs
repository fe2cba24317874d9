//! Imports: servers from `~/.ssh/config` or an Ansible inventory, host keys
//! from `known_hosts`. Each import is planned first (what would be added,
//! updated, left as it is, or skipped, and why), shown, and then applied in
//! one transaction; the plan compares with the cache, so a second import of
//! the same file changes nothing. The parsers are in `crate::import`.

mod ansible;
mod jumps;
mod known_hosts;
mod ssh_config;

use std::path::{Path, PathBuf};

use serde::Serialize;

use crate::db::{ImportWrite, NewServer, ServerFilter, ServerPatch, ServerRecord};
use crate::error::{Error, Result};
use crate::validate::{Host, Port, ServerName, Tag, UnixUser};

use super::Imports;

pub use ansible::AnsibleFormat;

/// Where an import reads from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Deserialize)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
#[serde(rename_all = "snake_case")]
pub enum ImportSource {
    /// An OpenSSH client config (default `~/.ssh/config`).
    SshConfig,
    /// A known_hosts file (default `~/.ssh/known_hosts`).
    KnownHosts,
    /// An Ansible inventory, INI or YAML (a file must be named).
    Ansible,
}

/// What an import does (or, on a dry run, would do).
#[derive(Debug, Clone, Serialize)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
pub struct ImportPlan {
    /// The file read (the first one, for a config with Includes).
    pub source: String,
    pub servers: Vec<PlannedServer>,
    pub host_keys: Vec<PlannedHostKey>,
    /// About the source as a whole: unknown keywords, lines not understood.
    pub warnings: Vec<String>,
    /// Whether it was written (false on a dry run, or when nothing changes).
    pub applied: bool,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
#[serde(rename_all = "snake_case")]
pub enum ImportAction {
    Add,
    Update,
    Unchanged,
    Skip,
}

#[derive(Debug, Clone, Serialize)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
pub struct PlannedServer {
    pub name: String,
    pub action: ImportAction,
    pub host: String,
    pub port: u16,
    pub user: String,
    pub key: Option<String>,
    pub tags: Vec<String>,
    /// The server it is reached through (a ProxyJump CHOM follows).
    pub jump: Option<String>,
    /// For an update: each field that changes ("port: 22 -> 2222").
    pub changes: Vec<String>,
    /// Why it is skipped, directives ignored, differences with OpenSSH,
    /// keys to import first.
    pub notes: Vec<String>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
#[serde(rename_all = "snake_case")]
pub enum HostKeyAction {
    /// Pinned (the server had no pinned key).
    Pin,
    /// The pinned key is the one the file has.
    Unchanged,
    /// The file has another key than the pinned one: shown, never replaced.
    Conflict,
    /// Marked @revoked: refused for good on this server.
    Revoke,
    /// A line CHOM does not act on yet (@cert-authority).
    NotSupported,
}

#[derive(Debug, Clone, Serialize)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
pub struct PlannedHostKey {
    pub server: String,
    pub action: HostKeyAction,
    pub algorithm: String,
    pub fingerprint: String,
    pub detail: String,
}

/// A server as a source describes it, validated; or why it cannot be one.
pub(super) enum Candidate {
    Server { server: NewServer, notes: Vec<String> },
    Skip { name: String, host: String, port: u16, user: String, notes: Vec<String> },
}

impl Candidate {
    /// The same server, skipped: a source names it, but CHOM cannot reach
    /// it as described (`why`).
    fn skipped(self, why: String) -> Candidate {
        match self {
            Candidate::Server { server, mut notes } => {
                notes.insert(0, format!("skipped: {why}"));
                Candidate::Skip {
                    name: server.name.to_string(),
                    host: server.host.to_string(),
                    port: server.port.get(),
                    user: server.user.to_string(),
                    notes,
                }
            }
            skip => skip,
        }
    }
}

impl ImportPlan {
    fn new(source: &Path) -> ImportPlan {
        ImportPlan {
            source: source.display().to_string(),
            servers: Vec::new(),
            host_keys: Vec::new(),
            warnings: Vec::new(),
            applied: false,
        }
    }
}

impl Imports<'_> {
    /// The import of `source` from `file` (its default where `None`).
    pub async fn import(&self, source: ImportSource, file: Option<&Path>, dry_run: bool) -> Result<ImportPlan> {
        match source {
            ImportSource::SshConfig => self.import_ssh_config(file, dry_run).await,
            ImportSource::KnownHosts => self.import_known_hosts(file, dry_run).await,
            ImportSource::Ansible => {
                let file = file.ok_or_else(|| Error::Usage("name the Ansible inventory file to import".into()))?;
                self.import_ansible(file, dry_run).await
            }
        }
    }

    /// Plans candidates against the cache: added when the name is new,
    /// updated where a field differs (tags are only ever added), otherwise
    /// unchanged.
    fn plan_servers(&self, plan: &mut ImportPlan, candidates: Vec<Candidate>, write: &mut ImportWrite) -> Result<()> {
        let existing = self.db.list_servers(&ServerFilter::default())?;
        let keys = self.db.list_keys()?;
        let mut seen = std::collections::HashSet::new();
        for candidate in candidates {
            let (server, notes) = match candidate {
                Candidate::Skip { name, host, port, user, notes } => {
                    plan.servers.push(PlannedServer {
                        name,
                        action: ImportAction::Skip,
                        host,
                        port,
                        user,
                        key: None,
                        tags: Vec::new(),
                        jump: None,
                        changes: Vec::new(),
                        notes,
                    });
                    continue;
                }
                Candidate::Server { server, notes } => (server, notes),
            };
            if !seen.insert(server.name.to_string()) {
                continue; // first one wins, as in OpenSSH and Ansible
            }
            let key = server.key_id.and_then(|id| keys.iter().find(|k| k.id == id)).map(|k| k.name.to_string());
            let mut planned = PlannedServer {
                name: server.name.to_string(),
                action: ImportAction::Add,
                host: server.host.to_string(),
                port: server.port.get(),
                user: server.user.to_string(),
                key,
                tags: server.tags.iter().map(|t| t.to_string()).collect(),
                jump: server.jump.as_ref().map(|j| j.to_string()),
                changes: Vec::new(),
                notes,
            };
            match existing.iter().find(|r| r.name == server.name) {
                None => write.add.push(server),
                Some(record) => {
                    let (patch, changes) = patch_for(record, &server, planned.key.as_deref());
                    planned.action = if changes.is_empty() { ImportAction::Unchanged } else { ImportAction::Update };
                    planned.changes = changes;
                    if planned.action == ImportAction::Update {
                        write.update.push((record.id, patch));
                    }
                }
            }
            plan.servers.push(planned);
        }
        Ok(())
    }

    /// Writes `write` unless it is a dry run or empty; audits it.
    async fn apply(&self, plan: &mut ImportPlan, write: ImportWrite, dry_run: bool, action: &str) -> Result<()> {
        let empty = write.add.is_empty()
            && write.update.is_empty()
            && write.pin.is_empty()
            && write.pin_more.is_empty()
            && write.revoke.is_empty();
        if dry_run || empty {
            return Ok(());
        }
        let write = ImportWrite { add: jumps::in_write_order(write.add), ..write };
        if let Err(name) = self.db.apply_import(&write)? {
            return Err(Error::AlreadyExists { what: "server", name });
        }
        for (id, _) in &write.update {
            // An edited endpoint must not keep serving a pooled connection.
            self.pool.evict(*id).await;
        }
        plan.applied = true;
        let detail = format!(
            "{}: {} added, {} updated, {} host keys pinned, {} revoked",
            plan.source,
            write.add.len(),
            write.update.len(),
            write.pin.len(),
            write.revoke.len()
        );
        self.audit(action, None, Some(&plan.source), true, &detail);
        Ok(())
    }
}

/// The patch that makes `record` what `server` says, and the changes in
/// words. A key is set only where the source names one CHOM has.
fn patch_for(record: &ServerRecord, server: &NewServer, key: Option<&str>) -> (ServerPatch, Vec<String>) {
    let mut patch = ServerPatch::default();
    let mut changes = Vec::new();
    if record.host != server.host {
        changes.push(format!("host: {} -> {}", record.host, server.host));
        patch.host = Some(server.host.clone());
    }
    if record.port != server.port {
        changes.push(format!("port: {} -> {}", record.port, server.port));
        patch.port = Some(server.port);
    }
    if record.user != server.user {
        changes.push(format!("user: {} -> {}", record.user, server.user));
        patch.user = Some(server.user.clone());
    }
    if record.jump != server.jump {
        let show = |j: &Option<ServerName>| j.as_ref().map_or("none".to_owned(), |j| j.to_string());
        changes.push(format!("jump host: {} -> {}", show(&record.jump), show(&server.jump)));
        patch.jump = Some(server.jump.clone());
    }
    if let (Some(id), Some(name)) = (server.key_id, key) {
        if record.key.as_ref().map(|k| k.as_str()) != Some(name) {
            changes.push(format!("key: {} -> {name}", record.key.as_ref().map_or("none", |k| k.as_str())));
            patch.key_id = Some(id);
        }
    }
    for tag in &server.tags {
        if !record.tags.contains(tag) {
            changes.push(format!("tag added: {tag}"));
            patch.add_tags.push(tag.clone());
        }
    }
    (patch, changes)
}

/// A validated server from a source's fields; the first invalid field is
/// the reason it is skipped.
pub(super) fn candidate(
    name: &str,
    host: &str,
    port: u16,
    user: &str,
    tags: &[String],
    mut notes: Vec<String>,
) -> Candidate {
    let skip = |why: String, mut notes: Vec<String>| {
        notes.insert(0, format!("skipped: {why}"));
        Candidate::Skip { name: name.to_owned(), host: host.to_owned(), port, user: user.to_owned(), notes }
    };
    let name_ok = match ServerName::parse(name) {
        Ok(n) => n,
        Err(e) => return skip(e.to_string(), notes),
    };
    let host_ok = match Host::parse(host) {
        Ok(h) => h,
        Err(e) => return skip(e.to_string(), notes),
    };
    let port_ok = match Port::parse(&port.to_string()) {
        Ok(p) => p,
        Err(e) => return skip(e.to_string(), notes),
    };
    let user_ok = match UnixUser::parse(user) {
        Ok(u) => u,
        Err(e) => return skip(e.to_string(), notes),
    };
    let mut valid_tags = Vec::new();
    for t in tags {
        match Tag::parse(t) {
            Ok(tag) => valid_tags.push(tag),
            Err(e) => notes.push(format!("tag {t:?} not kept: {e}")),
        }
    }
    Candidate::Server {
        server: NewServer {
            name: name_ok,
            host: host_ok,
            port: port_ok,
            user: user_ok,
            key_id: None,
            tags: valid_tags,
            group: None,
            notes: String::new(),
            jump: None,
        },
        notes,
    }
}

/// Reads a source file, saying which one failed.
pub(super) fn read(path: &Path) -> Result<String> {
    std::fs::read_to_string(path).map_err(|e| Error::LocalFile {
        path: path.to_owned(),
        what: "reading".into(),
        detail: e.to_string(),
    })
}

/// `~/NAME` for the operator running CHOM.
pub(super) fn home_file(rel: &str) -> Result<PathBuf> {
    let home = std::env::var_os("HOME")
        .filter(|h| !h.is_empty())
        .ok_or_else(|| Error::Usage("HOME is not set, so ~/.ssh cannot be found: name the file to import".into()))?;
    Ok(PathBuf::from(home).join(rel))
}
