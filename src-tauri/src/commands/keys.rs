//! Keys. The private half arrives once (import) and goes straight to the
//! OS keyring; nothing here keeps or returns it.

use chom_core::{KeyView, Secret};
use tauri::State;

use super::blocking;
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
