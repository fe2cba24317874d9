//! Inventory commands. Listing and details read the cache only (offline).
//! The views and inputs are chom-core's own, as `chom --json` prints them.

use chom_core::{ServerDetail, ServerEdit, ServerInput, ServerView};
use tauri::State;

use crate::{AppState, UiError};

/// The cached inventory with each server's latest probe.
#[tauri::command]
#[specta::specta]
pub async fn server_list(state: State<'_, AppState>) -> Result<Vec<ServerView>, UiError> {
    Ok(state.core()?.servers().list_servers(&Default::default())?)
}

/// A server's facts, pinned host key and 30 days of probe history.
#[tauri::command]
#[specta::specta]
pub async fn server_detail(state: State<'_, AppState>, name: String) -> Result<ServerDetail, UiError> {
    Ok(state.core()?.servers().server_detail(&name)?)
}

#[tauri::command]
#[specta::specta]
pub async fn server_add(state: State<'_, AppState>, input: ServerInput) -> Result<ServerView, UiError> {
    Ok(state.core()?.servers().add_server(&input)?)
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
    Ok(state.core()?.servers().remove_server(&name)?)
}

/// Closes a paused server's circuit breaker.
#[tauri::command]
#[specta::specta]
pub async fn server_resume(state: State<'_, AppState>, name: String) -> Result<(), UiError> {
    Ok(state.core()?.servers().resume_server(&name)?)
}
