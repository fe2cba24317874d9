//! Keys. The private half arrives once (import) and goes straight to the
//! OS keyring; nothing here keeps or returns it.

use chom_core::db::RotationRow;
use chom_core::jobs::JobEvent;
use chom_core::{AgentKeyView, KeyView, RotateReport, Secret, Selection};
use tauri::ipc::Channel;
use tauri::State;

use super::blocking;
use super::fleet::Ticket;
use crate::{AppState, UiError};

#[tauri::command]
#[specta::specta]
pub async fn key_list(state: State<'_, AppState>) -> Result<Vec<KeyView>, UiError> {
    blocking(state.core()?, |c| c.keys().list_keys()).await
}

#[tauri::command]
#[specta::specta]
pub async fn key_generate(state: State<'_, AppState>, name: String) -> Result<KeyView, UiError> {
    blocking(state.core()?, move |c| c.keys().generate_key(&name)).await
}

/// `pem` is the key file's text, read by the UI from the file the operator
/// picked; `passphrase` is empty for an unencrypted key.
#[tauri::command]
#[specta::specta]
pub async fn key_import(
    state: State<'_, AppState>,
    name: String,
    pem: String,
    passphrase: String,
) -> Result<KeyView, UiError> {
    let (pem, passphrase) = (Secret::new(pem), Secret::new(passphrase));
    blocking(state.core()?, move |c| {
        let passphrase = (!passphrase.is_empty()).then_some(&passphrase);
        c.keys().import_key(&name, &pem, passphrase)
    })
    .await
}

#[tauri::command]
#[specta::specta]
pub async fn key_delete(state: State<'_, AppState>, name: String) -> Result<(), UiError> {
    blocking(state.core()?, move |c| c.keys().delete_key(&name)).await
}

/// The keys the operator's ssh-agent holds (SSH_AUTH_SOCK of the app's
/// session), and which CHOM key each is.
#[tauri::command]
#[specta::specta]
pub async fn key_agent_list(state: State<'_, AppState>) -> Result<Vec<AgentKeyView>, UiError> {
    Ok(state.core()?.keys().agent_keys().await?)
}

/// Uses the agent's key `fingerprint` as key `name`; the agent signs.
#[tauri::command]
#[specta::specta]
pub async fn key_add_agent(state: State<'_, AppState>, name: String, fingerprint: String) -> Result<KeyView, UiError> {
    Ok(state.core()?.keys().add_agent_key(&name, &fingerprint).await?)
}

/// Rotates the servers that log in with key `old_key` (those with tag
/// `tag`, or all) to key `new_key`, streaming each server's steps; run it again to
/// finish the ones left pending.
#[tauri::command]
#[specta::specta]
pub async fn key_rotate(
    state: State<'_, AppState>,
    old_key: String,
    new_key: String,
    tag: Option<String>,
    ticket: String,
    on_event: Channel<JobEvent>,
) -> Result<RotateReport, UiError> {
    let ticket = Ticket::new(&state, ticket);
    let sel = Selection { all: tag.is_none(), tag, ..Default::default() };
    Ok(state.core()?.keys().rotate_key(&old_key, &new_key, &sel, &ticket.control(on_event)).await?)
}

/// Where each server of the rotations from or to key `name` stands.
#[tauri::command]
#[specta::specta]
pub async fn key_rotations(state: State<'_, AppState>, name: String) -> Result<Vec<RotationRow>, UiError> {
    blocking(state.core()?, move |c| c.keys().rotations(&name)).await
}
