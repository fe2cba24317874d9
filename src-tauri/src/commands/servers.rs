//! Inventory commands. Listing and details read the cache only (offline),
//! on the blocking pool: SQLite never runs on an async worker.
//! The views and inputs are chom-core's own, as `chom --json` prints them.

use chom_core::{ServerDetail, ServerEdit, ServerInput, ServerView};
use tauri::State;

use super::blocking;
use crate::{AppState, UiError};

/// The cached inventory with each server's latest probe.
#[tauri::command]
#[specta::specta]
pub async fn server_list(state: State<'_, AppState>) -> Result<Vec<ServerView>, UiError> {
    blocking(state.core()?, |c| c.servers().list_servers(&Default::default())).await
}

/// A server's facts, pinned host key and 30 days of probe history.
#[tauri::command]
#[specta::specta]
pub async fn server_detail(state: State<'_, AppState>, name: String) -> Result<ServerDetail, UiError> {
    blocking(state.core()?, move |c| c.servers().server_detail(&name)).await
}

#[tauri::command]
#[specta::specta]
pub async fn server_add(state: State<'_, AppState>, input: ServerInput) -> Result<ServerView, UiError> {
    blocking(state.core()?, move |c| c.servers().add_server(&input)).await
}

/// Changes to a server; `None` keeps a field, `group: ""` removes it.
#[tauri::command]
#[specta::specta]
pub async fn server_edit(state: State<'_, AppState>, name: String, edit: ServerEdit) -> Result<ServerView, UiError> {
    Ok(state.core()?.servers().edit_server(&name, &edit).await?)
}

#[tauri::command]
#[specta::specta]
pub async fn server_remove(state: State<'_, AppState>, name: String) -> Result<(), UiError> {
    blocking(state.core()?, move |c| c.servers().remove_server(&name)).await
}

/// Closes a paused server's circuit breaker.
#[tauri::command]
#[specta::specta]
pub async fn server_resume(state: State<'_, AppState>, name: String) -> Result<(), UiError> {
    blocking(state.core()?, move |c| c.servers().resume_server(&name)).await
}
