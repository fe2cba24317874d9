//! The `servers` and `server_tags` tables.

use std::collections::HashMap;

use chrono::{DateTime, Utc};
use rusqlite::{params, Connection, OptionalExtension, Row};
use serde::Serialize;

use super::probes::{columns_of, probe_at, PROBE_COLUMNS};
use super::{from_ms, to_ms, Db, DbResult, ProbeRecord};
use crate::ids::{KeyId, ServerId};
use crate::validate::{GroupName, Host, KeyName, Port, ServerName, Tag, UnixUser};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum ServerStatus {
    Up,
    Down,
    Unknown,
    HostKeyChanged,
}

impl ServerStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            ServerStatus::Up => "up",
            ServerStatus::Down => "down",
            ServerStatus::Unknown => "unknown",
            ServerStatus::HostKeyChanged => "host_key_changed",
        }
    }

    pub(super) fn parse(s: &str) -> ServerStatus {
        match s {
            "up" => ServerStatus::Up,
            "down" => ServerStatus::Down,
            "host_key_changed" => ServerStatus::HostKeyChanged,
            _ => ServerStatus::Unknown,
        }
    }
}

#[derive(Debug, Clone, Serialize)]
pub struct ServerRecord {
    #[serde(skip)]
    pub id: ServerId,
    pub name: ServerName,
    pub host: Host,
    pub port: Port,
    pub user: UnixUser,
    pub key: Option<KeyName>,
    pub tags: Vec<Tag>,
    pub group: Option<GroupName>,
    pub notes: String,
    /// The server this one is reached through (ProxyJump).
    pub jump: Option<ServerName>,
    pub status: ServerStatus,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
    pub last_seen: Option<DateTime<Utc>>,
}

#[derive(Debug, Clone)]
pub struct NewServer {
    pub name: ServerName,
    pub host: Host,
    pub port: Port,
    pub user: UnixUser,
    pub key_id: Option<KeyId>,
    pub tags: Vec<Tag>,
    pub group: Option<GroupName>,
    pub notes: String,
    /// A server already in the cache (or added before this one in the same
    /// transaction) that this one is reached through.
    pub jump: Option<ServerName>,
}

/// A partial update; `None` leaves the field as it is.
#[derive(Debug, Clone, Default)]
pub struct ServerPatch {
    pub rename: Option<ServerName>,
    pub host: Option<Host>,
    pub port: Option<Port>,
    pub user: Option<UnixUser>,
    pub key_id: Option<KeyId>,
    pub group: Option<Option<GroupName>>,
    pub notes: Option<String>,
    /// `Some(None)` clears it.
    pub jump: Option<Option<ServerName>>,
    pub add_tags: Vec<Tag>,
    pub remove_tags: Vec<Tag>,
}

impl ServerPatch {
    /// Whether the change invalidates the pinned host key (another machine).
    pub fn changes_endpoint(&self) -> bool {
        self.host.is_some() || self.port.is_some()
    }
}

#[derive(Debug, Clone, Default)]
pub struct ServerFilter {
    pub tag: Option<Tag>,
    pub group: Option<GroupName>,
    /// Case-insensitive substring of name or host.
    pub search: Option<String>,
}

const SELECT: &str = "SELECT s.id, s.name, s.host, s.port, s.user, k.name, s.group_name, s.notes, s.status, \
     s.created_at, s.updated_at, s.last_seen, \
     (SELECT group_concat(tag, char(10)) FROM (SELECT tag FROM server_tags t WHERE t.server_id = s.id ORDER BY tag)), \
     j.name \
     FROM servers s LEFT JOIN keys k ON k.id = s.key_id LEFT JOIN servers j ON j.id = s.jump_id";
/// The columns of SELECT without its FROM, and no tags (lists read them
/// in one pass: a subquery per server was a third of `chom server list`'s
/// time at 50,000).
const SELECT_UNTAGGED: &str = "SELECT s.id, s.name, s.host, s.port, s.user, k.name, s.group_name, s.notes, s.status, \
     s.created_at, s.updated_at, s.last_seen, NULL, j.name";

/// A `ServerFilter` on `servers s`: ?1 a tag, ?2 a group, ?3 a search
/// text (each NULL for any).
pub(super) const FILTER: &str =
    "(?1 IS NULL OR EXISTS (SELECT 1 FROM server_tags t WHERE t.server_id = s.id AND t.tag = ?1)) \
     AND (?2 IS NULL OR s.group_name = ?2) \
     AND (?3 IS NULL OR instr(lower(s.name), lower(?3)) > 0 OR instr(lower(s.host), lower(?3)) > 0)";

/// A server as listed, with its newest probe and, when that one failed,
/// its newest good one (whose figures the offline inventory shows).
pub struct ListedServer {
    pub server: ServerRecord,
    pub latest: Option<ProbeRecord>,
    pub last_good: Option<ProbeRecord>,
}

/// NULL in place of each probe column, for a list without probes.
fn nulls() -> String {
    vec!["NULL"; PROBE_COLUMNS.split(',').count()].join(", ")
}

fn corrupt<E: std::fmt::Display>(e: E) -> rusqlite::Error {
    rusqlite::Error::FromSqlConversionFailure(0, rusqlite::types::Type::Text, e.to_string().into())
}

fn row_to_server(r: &Row<'_>) -> rusqlite::Result<ServerRecord> {
    let port: u32 = r.get(3)?;
    let tags: Option<String> = r.get(12)?;
    Ok(ServerRecord {
        id: r.get(0)?,
        name: ServerName::parse(&r.get::<_, String>(1)?).map_err(corrupt)?,
        host: Host::parse(&r.get::<_, String>(2)?).map_err(corrupt)?,
        port: Port::try_from(port).map_err(corrupt)?,
        user: UnixUser::parse(&r.get::<_, String>(4)?).map_err(corrupt)?,
        key: r.get::<_, Option<String>>(5)?.map(|k| KeyName::parse(&k)).transpose().map_err(corrupt)?,
        group: r.get::<_, Option<String>>(6)?.map(|g| GroupName::parse(&g)).transpose().map_err(corrupt)?,
        notes: r.get(7)?,
        jump: r.get::<_, Option<String>>(13)?.map(|j| ServerName::parse(&j)).transpose().map_err(corrupt)?,
        status: ServerStatus::parse(&r.get::<_, String>(8)?),
        created_at: from_ms(r.get(9)?),
        updated_at: from_ms(r.get(10)?),
        last_seen: r.get::<_, Option<i64>>(11)?.map(from_ms),
        tags: tags.unwrap_or_default().lines().map(Tag::parse).collect::<Result<_, _>>().map_err(corrupt)?,
    })
}

/// A row of SELECT's columns, then the latest probe's and the last good
/// one's `PROBE_COLUMNS`.
fn listed_of(r: &Row<'_>) -> rusqlite::Result<ListedServer> {
    let server = row_to_server(r)?;
    let n = PROBE_COLUMNS.split(',').count();
    let latest = probe_at(r, 14, server.name.as_str())?;
    let last_good = probe_at(r, 14 + n, server.name.as_str())?;
    Ok(ListedServer { server, latest, last_good })
}

pub(crate) fn is_unique_violation(e: &rusqlite::Error) -> bool {
    matches!(e, rusqlite::Error::SqliteFailure(f, _)
        if f.extended_code == rusqlite::ffi::SQLITE_CONSTRAINT_UNIQUE
        || f.extended_code == rusqlite::ffi::SQLITE_CONSTRAINT_PRIMARYKEY)
}

impl Db {
    /// Inserts a server; `Ok(None)` when the name is taken.
    pub fn insert_server(&self, s: &NewServer) -> DbResult<Option<ServerRecord>> {
        self.blocking(|| {
            let mut conn = self.conn();
            let tx = super::write_tx(&mut conn)?;
            let Some(id) = insert_in(&tx, s)? else { return Ok(None) };
            tx.commit()?;
            drop(conn);
            self.server_by_id(id)
        })
    }

    pub fn server_by_id(&self, id: ServerId) -> DbResult<Option<ServerRecord>> {
        let conn = self.conn();
        Ok(conn.query_row(&format!("{SELECT} WHERE s.id = ?1"), [id], row_to_server).optional()?)
    }

    pub fn server_by_name(&self, name: &ServerName) -> DbResult<Option<ServerRecord>> {
        let conn = self.conn();
        Ok(conn.query_row(&format!("{SELECT} WHERE s.name = ?1"), [name.as_str()], row_to_server).optional()?)
    }

    pub fn list_servers(&self, f: &ServerFilter) -> DbResult<Vec<ServerRecord>> {
        Ok(self.list_servers_with_probes(f, false)?.into_iter().map(|l| l.server).collect())
    }

    /// The servers matching `f` by name, each with its newest probe and,
    /// when that one failed, its newest good one: one query, two lookups
    /// by id per server (the pointers of migration 19), tags from one pass
    /// over server_tags instead of a subquery per server.
    pub fn list_servers_with_probes(&self, f: &ServerFilter, probes: bool) -> DbResult<Vec<ListedServer>> {
        let conn = self.conn();
        let (p, g) = if probes { (columns_of("p"), columns_of("g")) } else { (nulls(), nulls()) };
        let mut stmt = conn.prepare_cached(&format!(
            "{SELECT_UNTAGGED}, {p}, {g} \
             FROM servers s LEFT JOIN keys k ON k.id = s.key_id LEFT JOIN servers j ON j.id = s.jump_id \
             LEFT JOIN probes p ON ?4 AND p.id = s.latest_probe_id \
             LEFT JOIN probes g ON ?4 AND g.id = s.good_probe_id AND s.good_probe_id IS NOT s.latest_probe_id \
             WHERE {FILTER} ORDER BY s.name"
        ))?;
        let filter = params![
            f.tag.as_ref().map(|t| t.as_str()),
            f.group.as_ref().map(|g| g.as_str()),
            f.search.as_deref(),
            probes
        ];
        let rows = stmt.query_map(filter, listed_of)?;
        let mut servers: Vec<ListedServer> = rows.collect::<Result<_, _>>()?;
        let mut tags = HashMap::<ServerId, Vec<Tag>>::new();
        let mut stmt = conn.prepare_cached("SELECT server_id, tag FROM server_tags ORDER BY server_id, tag")?;
        let mut rows = stmt.query([])?;
        while let Some(r) = rows.next()? {
            let tag = Tag::parse(r.get_ref(1)?.as_str().map_err(rusqlite::Error::from)?).map_err(corrupt)?;
            tags.entry(r.get(0)?).or_default().push(tag);
        }
        for l in &mut servers {
            l.server.tags = tags.remove(&l.server.id).unwrap_or_default();
        }
        Ok(servers)
    }

    /// The servers of `ids` with their probes as `list_servers_with_probes`
    /// has them, in the order of `ids` (one missing since is left out).
    pub fn listed_servers_by_id(&self, ids: &[ServerId]) -> DbResult<Vec<ListedServer>> {
        let conn = self.conn();
        let (p, g) = (columns_of("p"), columns_of("g"));
        // SELECT with the probes' columns before its FROM.
        let select = SELECT.replacen(" FROM servers s", &format!(", {p}, {g} FROM servers s"), 1);
        let mut stmt = conn.prepare_cached(&format!(
            "{select} LEFT JOIN probes p ON p.id = s.latest_probe_id \
             LEFT JOIN probes g ON g.id = s.good_probe_id AND s.good_probe_id IS NOT s.latest_probe_id \
             WHERE s.id IN (SELECT value FROM json_each(?1))"
        ))?;
        let wanted = serde_json::to_string(ids).expect("ids serialize");
        let mut found: HashMap<ServerId, ListedServer> =
            stmt.query_map([wanted], |r| listed_of(r).map(|l| (l.server.id, l)))?.collect::<Result<_, _>>()?;
        Ok(ids.iter().filter_map(|id| found.remove(id)).collect())
    }

    /// Applies a patch in one transaction. `Ok(None)` when the new name is taken.
    /// A changed host or port drops the pinned host key: it is another machine.
    pub fn update_server(&self, id: ServerId, p: &ServerPatch) -> DbResult<Option<ServerRecord>> {
        self.blocking(|| {
            let mut conn = self.conn();
            let tx = super::write_tx(&mut conn)?;
            if !update_in(&tx, id, p)? {
                return Ok(None);
            }
            tx.commit()?;
            drop(conn);
            self.server_by_id(id)
        })
    }

    pub fn delete_server(&self, id: ServerId) -> DbResult<bool> {
        self.blocking(|| Ok(self.conn().execute("DELETE FROM servers WHERE id = ?1", [id])? > 0))
    }

    pub fn set_server_status(&self, id: ServerId, status: ServerStatus, seen: Option<DateTime<Utc>>) -> DbResult<()> {
        self.blocking(|| {
            self.conn().execute(
                "UPDATE servers SET status = ?2, last_seen = coalesce(?3, last_seen) WHERE id = ?1",
                params![id, status.as_str(), seen.map(to_ms)],
            )?;
            Ok(())
        })
    }

    /// Names of the servers reached through `id`.
    pub fn servers_behind(&self, id: ServerId) -> DbResult<Vec<String>> {
        let conn = self.conn();
        let mut stmt = conn.prepare_cached("SELECT name FROM servers WHERE jump_id = ?1 ORDER BY name")?;
        let names = stmt.query_map([id], |r| r.get(0))?.collect::<Result<_, _>>()?;
        Ok(names)
    }

    /// Names of the servers that use a key.
    pub fn servers_using_key(&self, key_id: KeyId) -> DbResult<Vec<String>> {
        let conn = self.conn();
        let mut stmt = conn.prepare_cached("SELECT name FROM servers WHERE key_id = ?1 ORDER BY name")?;
        let names = stmt.query_map([key_id], |r| r.get(0))?.collect::<Result<_, _>>()?;
        Ok(names)
    }
}

/// Inserts a server inside transaction `tx`; `None` when the name is taken.
pub(super) fn insert_in(tx: &Connection, s: &NewServer) -> rusqlite::Result<Option<ServerId>> {
    let inserted = tx.execute(
        "INSERT INTO servers (name, host, port, user, key_id, group_name, notes, created_at, updated_at, jump_id) \
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?8, (SELECT id FROM servers WHERE name = ?9))",
        params![
            s.name.as_str(),
            s.host.as_str(),
            s.port.get(),
            s.user.as_str(),
            s.key_id,
            s.group.as_ref().map(|g| g.as_str()),
            s.notes,
            to_ms(Utc::now()),
            s.jump.as_ref().map(|j| j.as_str()),
        ],
    );
    match inserted {
        Err(e) if is_unique_violation(&e) => return Ok(None),
        other => other?,
    };
    let id = ServerId(tx.last_insert_rowid());
    for tag in &s.tags {
        tx.execute("INSERT OR IGNORE INTO server_tags (server_id, tag) VALUES (?1, ?2)", params![id, tag.as_str()])?;
    }
    Ok(Some(id))
}

/// Applies a patch inside transaction `tx`; `false` when the new name is
/// taken. A changed host or port drops the pinned host key.
pub(super) fn update_in(tx: &Connection, id: ServerId, p: &ServerPatch) -> rusqlite::Result<bool> {
    let updated = tx.execute(
        "UPDATE servers SET name = coalesce(?2, name), host = coalesce(?3, host), port = coalesce(?4, port), \
         user = coalesce(?5, user), key_id = coalesce(?6, key_id), \
         group_name = CASE WHEN ?7 THEN ?8 ELSE group_name END, notes = coalesce(?9, notes), updated_at = ?10, \
         jump_id = CASE WHEN ?11 THEN (SELECT id FROM servers WHERE name = ?12) ELSE jump_id END \
         WHERE id = ?1",
        params![
            id,
            p.rename.as_ref().map(|n| n.as_str()),
            p.host.as_ref().map(|h| h.as_str()),
            p.port.map(|p| p.get()),
            p.user.as_ref().map(|u| u.as_str()),
            p.key_id,
            p.group.is_some(),
            p.group.as_ref().and_then(|g| g.as_ref().map(|g| g.as_str())),
            p.notes,
            to_ms(Utc::now()),
            p.jump.is_some(),
            p.jump.as_ref().and_then(|j| j.as_ref().map(|j| j.as_str())),
        ],
    );
    match updated {
        Err(e) if is_unique_violation(&e) => return Ok(false),
        other => other?,
    };
    for tag in &p.add_tags {
        tx.execute("INSERT OR IGNORE INTO server_tags (server_id, tag) VALUES (?1, ?2)", params![id, tag.as_str()])?;
    }
    for tag in &p.remove_tags {
        tx.execute("DELETE FROM server_tags WHERE server_id = ?1 AND tag = ?2", params![id, tag.as_str()])?;
    }
    if p.changes_endpoint() {
        tx.execute("DELETE FROM host_keys WHERE server_id = ?1", [id])?;
        tx.execute("DELETE FROM host_keys_more WHERE server_id = ?1", [id])?;
        tx.execute("UPDATE servers SET status = 'unknown' WHERE id = ?1", [id])?;
    }
    Ok(true)
}
