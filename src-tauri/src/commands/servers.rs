//! Inventory commands. Offline: they read the cache only.

use serde::Serialize;
use tauri::State;

use crate::{AppState, UiError};

/// A row of the Fleet table.
#[derive(Debug, Clone, Serialize, specta::Type)]
#[serde(rename_all = "camelCase")]
pub struct ServerRow {
    pub name: String,
    pub host: String,
    pub port: u16,
    pub user: String,
    pub key: Option<String>,
    pub tags: Vec<String>,
    pub group: Option<String>,
    /// up | down | unknown | host_key_changed
    pub status: String,
    /// RFC 3339, UTC.
    pub last_seen: Option<String>,
    pub load1: Option<f64>,
    pub mem_used_pct: Option<f64>,
    pub disk_used_pct: Option<f64>,
}

impl From<chom_core::ServerView> for ServerRow {
    fn from(s: chom_core::ServerView) -> Self {
        let p = s.probe.as_ref();
        ServerRow {
            load1: p.and_then(|p| p.load1),
            mem_used_pct: p.and_then(|p| p.mem_used_pct),
            disk_used_pct: p.and_then(|p| p.disk_used_pct),
            name: s.name,
            host: s.host,
            port: s.port,
            user: s.user,
            key: s.key,
            tags: s.tags,
            group: s.group,
            status: s.status,
            last_seen: s.last_seen.map(|t| t.to_rfc3339()),
        }
    }
}

/// The cached inventory with each server's latest probe.
#[tauri::command]
#[specta::specta]
pub async fn server_list(state: State<'_, AppState>) -> Result<Vec<ServerRow>, UiError> {
    let servers = state.core()?.list_servers(&Default::default())?;
    Ok(servers.into_iter().map(ServerRow::from).collect())
}
