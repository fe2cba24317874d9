//! Keys. The private half arrives once (import) and goes straight to the
//! OS keyring; nothing here keeps or returns it.

use chom_core::Secret;
use serde::Serialize;
use tauri::State;

use super::blocking;
use crate::{AppState, UiError};

#[derive(Debug, Clone, Serialize, specta::Type)]
#[serde(rename_all = "camelCase")]
pub struct KeyRow {
    pub name: String,
    pub algorithm: String,
    pub bits: u32,
    pub fingerprint: String,
    pub public_key: String,
    pub used_by: Vec<String>,
}

impl From<chom_core::KeyView> for KeyRow {
    fn from(k: chom_core::KeyView) -> Self {
        KeyRow {
            name: k.name,
            algorithm: k.algorithm,
            bits: k.bits,
            fingerprint: k.fingerprint,
            public_key: k.public_key,
            used_by: k.used_by,
        }
    }
}

#[tauri::command]
#[specta::specta]
pub async fn key_list(state: State<'_, AppState>) -> Result<Vec<KeyRow>, UiError> {
    Ok(state.core()?.keys().list_keys()?.into_iter().map(KeyRow::from).collect())
}

#[tauri::command]
#[specta::specta]
pub async fn key_generate(state: State<'_, AppState>, name: String) -> Result<KeyRow, UiError> {
    blocking(state.core()?, move |c| c.keys().generate_key(&name)).await.map(KeyRow::from)
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
) -> Result<KeyRow, UiError> {
    let (pem, passphrase) = (Secret::new(pem), Secret::new(passphrase));
    blocking(state.core()?, move |c| {
        let passphrase = (!passphrase.is_empty()).then_some(&passphrase);
        c.keys().import_key(&name, &pem, passphrase)
    })
    .await
    .map(KeyRow::from)
}

#[tauri::command]
#[specta::specta]
pub async fn key_delete(state: State<'_, AppState>, name: String) -> Result<(), UiError> {
    blocking(state.core()?, move |c| c.keys().delete_key(&name)).await
}
