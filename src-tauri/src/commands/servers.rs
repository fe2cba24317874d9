//! Inventory commands. Listing and details read the cache only (offline),
//! on the blocking pool: SQLite never runs on an async worker.
//! The views and inputs are chom-core's own, as `chom --json` prints them.

use chom_core::{FleetPage, FleetQuery, ServerDetail, ServerEdit, ServerInput, ServerView};
use tauri::State;

use super::blocking;
use crate::{AppState, UiError};

/// The rows of the cached inventory the Fleet table shows, filtered and
/// sorted by the core (the web view never holds the whole fleet).
#[tauri::command]
#[specta::specta]
pub async fn fleet_page(state: State<'_, AppState>, query: FleetQuery) -> Result<FleetPage, UiError> {
    blocking(state.core()?, move |c| c.servers().fleet_page(&query)).await
}

/// The names of every server matching a query, in its order.
#[tauri::command]
#[specta::specta]
pub async fn fleet_names(state: State<'_, AppState>, query: FleetQuery) -> Result<Vec<String>, UiError> {
    blocking(state.core()?, move |c| c.servers().fleet_names(&query)).await
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
