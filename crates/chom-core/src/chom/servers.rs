//! Inventory: add, edit, remove, list. Nothing here touches the network.

use crate::db::{ListedServer, NewServer, ServerFilter, ServerPatch, ServerRecord, ServerRow};
use crate::error::{Error, Result};
use crate::ids::{KeyId, ServerId};
use crate::remedy::{Listing, Remedy};
use crate::validate::{parse_notes, GroupName, Host, KeyName, Port, ServerName, Tag, UnixUser};

use super::view::{ProbePoint, ServerDetail, ServerView};
use super::{Ctx, Servers};

/// A new server as the operator typed it; validated by `add_server`.
#[derive(Debug, Clone, Default, serde::Deserialize)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
pub struct ServerInput {
    pub name: String,
    pub host: String,
    pub port: Option<String>,
    pub user: Option<String>,
    pub key: Option<String>,
    pub tags: Vec<String>,
    pub group: Option<String>,
    pub notes: Option<String>,
    /// The server this one is reached through (ProxyJump).
    pub jump: Option<String>,
}

/// Changes to a server; `None` keeps the field. `group: Some("")` and
/// `jump: Some("")` clear theirs.
#[derive(Debug, Clone, Default, serde::Deserialize)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
pub struct ServerEdit {
    pub rename: Option<String>,
    pub host: Option<String>,
    pub port: Option<String>,
    pub user: Option<String>,
    pub key: Option<String>,
    pub add_tags: Vec<String>,
    pub remove_tags: Vec<String>,
    pub group: Option<String>,
    pub notes: Option<String>,
    pub jump: Option<String>,
}

fn tags(values: &[String]) -> Result<Vec<Tag>> {
    Ok(values.iter().map(|t| Tag::parse(t)).collect::<std::result::Result<_, _>>()?)
}

impl Servers<'_> {
    /// Validates every field first; on any error nothing is written.
    pub fn add_server(&self, input: &ServerInput) -> Result<ServerView> {
        let new = NewServer {
            name: ServerName::parse(&input.name)?,
            host: Host::parse(&input.host)?,
            port: input.port.as_deref().map(Port::parse).transpose()?.unwrap_or(Port::SSH),
            user: UnixUser::parse(input.user.as_deref().unwrap_or("root"))?,
            key_id: None,
            tags: tags(&input.tags)?,
            group: input.group.as_deref().map(GroupName::parse).transpose()?,
            notes: parse_notes(input.notes.as_deref().unwrap_or(""))?,
            jump: None,
        };
        let new = NewServer {
            key_id: input.key.as_deref().map(|k| self.key_id(k)).transpose()?,
            jump: input
                .jump
                .as_deref()
                .filter(|j| !j.is_empty())
                .map(|j| self.checked_jump(&new.name, j))
                .transpose()?,
            ..new
        };
        let record = self
            .db
            .insert_server(&new)?
            .ok_or_else(|| Error::AlreadyExists { what: "server", name: new.name.to_string() })?;
        self.audit("server.add", Some(record.name.as_str()), Some(&record.host.to_string()), true, "");
        Ok(ServerView::from_record(record, None, None, Default::default()))
    }

    /// Applies an edit; a pooled connection to the old endpoint is dropped.
    pub async fn edit_server(&self, name: &str, edit: &ServerEdit) -> Result<ServerView> {
        let (id, view) = self.edit_server_record(name, edit)?;
        self.pool.evict(id).await;
        Ok(view)
    }

    pub fn remove_server(&self, name: &str) -> Result<()> {
        let record = self.server_record(name)?;
        let behind = self.db.servers_behind(record.id)?;
        if !behind.is_empty() {
            return Err(Error::JumpInUse { server: record.name.to_string(), behind: behind.join(", ") });
        }
        self.db.delete_server(record.id)?;
        self.audit("server.remove", Some(record.name.as_str()), Some(&record.host.to_string()), true, "");
        Ok(())
    }

    /// The inventory as cached, with each server's latest probe. Offline.
    pub fn list_servers(&self, filter: &ServerFilter) -> Result<Vec<ServerView>> {
        self.views(self.db.list_servers_with_probes(filter, true)?)
    }

    /// The servers of `ids` in full, in that order.
    pub(super) fn views_by_id(&self, ids: &[ServerId]) -> Result<Vec<ServerView>> {
        self.views(self.db.listed_servers_by_id(ids)?)
    }

    fn views(&self, listed: Vec<ListedServer>) -> Result<Vec<ServerView>> {
        let mut breakers = self.db.breakers()?;
        Ok(listed
            .into_iter()
            .map(|l| {
                let breaker = breakers.remove(&l.server.id).unwrap_or_default();
                ServerView::from_record(l.server, l.latest, l.last_good, breaker)
            })
            .collect())
    }

    /// The inventory as a table shows it (`list_servers` has every field
    /// and both probes). Offline.
    pub fn server_rows(&self, filter: &ServerFilter) -> Result<Vec<ServerRow>> {
        Ok(self.db.server_rows(filter)?)
    }

    /// One server with its pinned host key and latest probe. Offline.
    pub fn server_detail(&self, name: &str) -> Result<ServerDetail> {
        let record = self.server_record(name)?;
        let host_key = self.db.pinned_host_key(record.id)?;
        let more_host_keys = self.db.more_host_keys(record.id)?;
        let history = self.db.probe_history(record.id, chrono::Utc::now() - chrono::Duration::days(30))?;
        let latest = history.last().cloned();
        let last_good = history.iter().rev().find(|p| p.ok).cloned();
        let recent_jobs = self.db.jobs_for_server(record.name.as_str(), 10)?;
        let breaker = self.db.breaker(record.id)?;
        let facts = last_good.as_ref().and_then(|p| p.facts.clone());
        let server = ServerView::from_record(record, latest, last_good, breaker);
        let history = history.iter().map(ProbePoint::of).collect();
        Ok(ServerDetail { server, host_key, more_host_keys, facts, history, recent_jobs })
    }
}

impl Ctx {
    pub(super) fn server_record(&self, name: &str) -> Result<ServerRecord> {
        let name = ServerName::parse(name)?;
        self.db.server_by_name(&name)?.ok_or_else(|| Error::NotFound {
            what: "server",
            name: name.to_string(),
            remedy: Remedy::List { what: Listing::Servers },
        })
    }

    fn key_id(&self, name: &str) -> Result<KeyId> {
        let name = KeyName::parse(name)?;
        let key = self.db.key_by_name(&name)?.ok_or_else(|| Error::NotFound {
            what: "key",
            name: name.to_string(),
            remedy: Remedy::AddKey,
        })?;
        Ok(key.id)
    }

    fn edit_server_record(&self, name: &str, edit: &ServerEdit) -> Result<(ServerId, ServerView)> {
        let current = self.server_record(name)?;
        let patch = ServerPatch {
            rename: edit.rename.as_deref().map(ServerName::parse).transpose()?,
            host: edit.host.as_deref().map(Host::parse).transpose()?,
            port: edit.port.as_deref().map(Port::parse).transpose()?,
            user: edit.user.as_deref().map(UnixUser::parse).transpose()?,
            key_id: edit.key.as_deref().map(|k| self.key_id(k)).transpose()?,
            group: edit
                .group
                .as_deref()
                .map(|g| if g.is_empty() { Ok(None) } else { GroupName::parse(g).map(Some) })
                .transpose()?,
            notes: edit.notes.as_deref().map(parse_notes).transpose()?,
            jump: edit
                .jump
                .as_deref()
                .map(|j| if j.is_empty() { Ok(None) } else { self.checked_jump(&current.name, j).map(Some) })
                .transpose()?,
            add_tags: tags(&edit.add_tags)?,
            remove_tags: tags(&edit.remove_tags)?,
        };
        let updated = self.db.update_server(current.id, &patch)?.ok_or_else(|| Error::AlreadyExists {
            what: "server",
            name: patch.rename.as_ref().map(|n| n.to_string()).unwrap_or_default(),
        })?;
        let detail = if patch.changes_endpoint() { "host or port changed: pinned host key dropped" } else { "" };
        self.audit("server.edit", Some(updated.name.as_str()), None, true, detail);
        Ok((updated.id, ServerView::from_record(updated, None, None, Default::default())))
    }
}
