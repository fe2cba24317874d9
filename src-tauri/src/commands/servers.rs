//! Inventory commands. Listing and details read the cache only (offline).

use serde::{Deserialize, Serialize};
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
    /// When the last probe ran (RFC 3339), whether it worked, and why not.
    pub probed_at: Option<String>,
    pub probe_error: Option<String>,
    pub load1: Option<f64>,
    pub cpus: Option<u32>,
    pub mem_used_pct: Option<f64>,
    pub disk_used_pct: Option<f64>,
    /// nginx, php-fpm, mariadb -> up | down | absent
    pub services: Vec<(String, String)>,
    /// RFC 3339: CHOM does not connect to it until then (its circuit breaker is open).
    pub paused_until: Option<String>,
    /// Failed connections in a row.
    pub connect_failures: u32,
}

impl From<chom_core::ServerView> for ServerRow {
    fn from(s: chom_core::ServerView) -> Self {
        let p = s.probe.as_ref();
        ServerRow {
            paused_until: s.paused_until.map(|u| u.to_rfc3339()),
            connect_failures: s.connect_failures,
            probed_at: p.map(|p| p.at.to_rfc3339()),
            probe_error: p.and_then(|p| p.error.clone()),
            load1: p.and_then(|p| p.load1),
            cpus: p.and_then(|p| p.cpus),
            mem_used_pct: p.and_then(|p| p.mem_used_pct),
            disk_used_pct: p.and_then(|p| p.disk_used_pct),
            services: p
                .map(|p| {
                    p.services
                        .iter()
                        .map(|(k, v)| {
                            (
                                k.clone(),
                                serde_json::to_value(v)
                                    .ok()
                                    .and_then(|v| v.as_str().map(str::to_owned))
                                    .unwrap_or_default(),
                            )
                        })
                        .collect()
                })
                .unwrap_or_default(),
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

/// One probe in a server's history, for the charts.
#[derive(Debug, Clone, Serialize, specta::Type)]
#[serde(rename_all = "camelCase")]
pub struct ProbePoint {
    /// Unix seconds (u32: f64 would cross as `number | null`).
    pub at: u32,
    pub ok: bool,
    pub load1: Option<f64>,
    pub mem_used_pct: Option<f64>,
    pub disk_used_pct: Option<f64>,
}

#[derive(Debug, Clone, Serialize, specta::Type)]
#[serde(rename_all = "camelCase")]
pub struct ServerDetail {
    pub server: ServerRow,
    pub notes: String,
    pub host_key_algorithm: Option<String>,
    pub host_key_fingerprint: Option<String>,
    pub host_key_pinned_at: Option<String>,
    pub os: Option<String>,
    pub kernel: Option<String>,
    pub hostname: Option<String>,
    pub uptime_s: Option<f64>,
    pub history: Vec<ProbePoint>,
    pub recent_jobs: Vec<super::history::JobRow>,
}

/// The cached inventory with each server's latest probe.
#[tauri::command]
#[specta::specta]
pub async fn server_list(state: State<'_, AppState>) -> Result<Vec<ServerRow>, UiError> {
    let servers = state.core()?.servers().list_servers(&Default::default())?;
    Ok(servers.into_iter().map(ServerRow::from).collect())
}

/// A server's facts, pinned host key and 30 days of probe history.
#[tauri::command]
#[specta::specta]
pub async fn server_detail(state: State<'_, AppState>, name: String) -> Result<ServerDetail, UiError> {
    let d = state.core()?.servers().server_detail(&name)?;
    let pct = |used: u64, total: u64| (total > 0).then(|| used as f64 * 100.0 / total as f64);
    let latest = d.history.iter().rev().find_map(|p| p.facts.clone());
    Ok(ServerDetail {
        notes: d.server.notes.clone(),
        host_key_algorithm: d.host_key.as_ref().map(|k| k.algorithm.clone()),
        host_key_fingerprint: d.host_key.as_ref().map(|k| k.fingerprint.clone()),
        host_key_pinned_at: d.host_key.as_ref().map(|k| k.first_seen.to_rfc3339()),
        os: latest.as_ref().map(|f| f.os.clone()),
        kernel: latest.as_ref().map(|f| f.kernel.clone()),
        hostname: latest.as_ref().map(|f| f.hostname.clone()),
        uptime_s: latest.as_ref().map(|f| f.uptime_s as f64),
        history: d
            .history
            .iter()
            .map(|p| ProbePoint {
                at: u32::try_from(p.at.timestamp()).unwrap_or(0),
                ok: p.ok,
                load1: p.facts.as_ref().map(|f| f.load[0]),
                mem_used_pct: p
                    .facts
                    .as_ref()
                    .and_then(|f| pct(f.mem_total.saturating_sub(f.mem_available), f.mem_total)),
                disk_used_pct: p
                    .facts
                    .as_ref()
                    .and_then(|f| pct(f.disk_total.saturating_sub(f.disk_free), f.disk_total)),
            })
            .collect(),
        recent_jobs: d.recent_jobs.into_iter().map(Into::into).collect(),
        server: ServerRow::from(d.server),
    })
}

/// The Add server form.
#[derive(Debug, Clone, Deserialize, specta::Type)]
#[serde(rename_all = "camelCase")]
pub struct ServerForm {
    pub name: String,
    pub host: String,
    pub port: String,
    pub user: String,
    pub key: String,
    pub tags: Vec<String>,
    pub group: String,
}

#[tauri::command]
#[specta::specta]
pub async fn server_add(state: State<'_, AppState>, form: ServerForm) -> Result<ServerRow, UiError> {
    let non_empty = |s: String| (!s.trim().is_empty()).then(|| s.trim().to_owned());
    let view = state.core()?.servers().add_server(&chom_core::ServerInput {
        name: form.name.trim().to_owned(),
        host: form.host.trim().to_owned(),
        port: non_empty(form.port),
        user: non_empty(form.user),
        key: non_empty(form.key),
        tags: form.tags,
        group: non_empty(form.group),
        notes: None,
    })?;
    Ok(view.into())
}

/// Changes to a server; empty strings keep the current value, except
/// `group`, where an empty string removes it.
#[derive(Debug, Clone, Deserialize, specta::Type)]
#[serde(rename_all = "camelCase")]
pub struct ServerChanges {
    pub host: String,
    pub port: String,
    pub user: String,
    pub key: String,
    pub add_tags: Vec<String>,
    pub remove_tags: Vec<String>,
    pub group: Option<String>,
    pub notes: Option<String>,
}

#[tauri::command]
#[specta::specta]
pub async fn server_edit(
    state: State<'_, AppState>,
    name: String,
    changes: ServerChanges,
) -> Result<ServerRow, UiError> {
    let keep = |s: String| (!s.trim().is_empty()).then(|| s.trim().to_owned());
    let edit = chom_core::ServerEdit {
        rename: None,
        host: keep(changes.host),
        port: keep(changes.port),
        user: keep(changes.user),
        key: keep(changes.key),
        add_tags: changes.add_tags,
        remove_tags: changes.remove_tags,
        group: changes.group.map(|g| g.trim().to_owned()),
        notes: changes.notes,
    };
    Ok(state.core()?.servers().edit_server(&name, &edit).await?.into())
}

#[tauri::command]
#[specta::specta]
pub async fn server_remove(state: State<'_, AppState>, name: String) -> Result<(), UiError> {
    Ok(state.core()?.servers().remove_server(&name)?)
}

/// Closes a paused server's circuit breaker.
#[tauri::command]
#[specta::specta]
pub async fn server_resume(state: State<'_, AppState>, name: String) -> Result<(), UiError> {
    Ok(state.core()?.servers().resume_server(&name)?)
}
