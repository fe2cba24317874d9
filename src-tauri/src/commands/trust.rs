//! Host-key trust: the UI shows what the server offers and pins it only on
//! the operator's explicit acceptance of that fingerprint.

use chom_core::{Acceptance, HostKeyCheck};
use tauri::State;

use crate::{AppState, UiError};

/// Connects (handshake only, nothing is sent) and reports the host key.
#[tauri::command]
#[specta::specta]
pub async fn host_key_check(state: State<'_, AppState>, name: String) -> Result<HostKeyCheck, UiError> {
    Ok(state.core()?.servers().check_host_key(&name).await?)
}

/// Pins the key only if the server still offers exactly `fingerprint`.
#[tauri::command]
#[specta::specta]
pub async fn host_key_accept(state: State<'_, AppState>, name: String, fingerprint: String) -> Result<(), UiError> {
    state.core()?.servers().accept_host_key(&name, Acceptance::Fingerprint(&fingerprint)).await?;
    Ok(())
}

/// Installs the server's key over a one-time password login (like
/// ssh-copy-id). The password is dropped (zeroized) when this returns.
#[tauri::command]
#[specta::specta]
pub async fn server_install_key(state: State<'_, AppState>, name: String, password: String) -> Result<(), UiError> {
    let password = chom_core::Secret::new(password);
    state.core()?.servers().install_key_with_password(&name, &password).await?;
    Ok(())
}
