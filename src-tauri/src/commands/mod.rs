//! One file per area; each command is one core call, returning the core's
//! own views (the types `chom --json` prints). Blocking core calls (the
//! keyring) run on the blocking pool.

pub mod backups;
pub mod fleet;
pub mod history;
pub mod import;
pub mod keys;
pub mod pick;
pub mod servers;
pub mod sites;
pub mod trust;

use std::sync::Arc;

use chom_core::Chom;

use crate::UiError;

/// Runs a blocking core call (keyring, D-Bus) off the async workers.
pub(crate) async fn blocking<T, F>(core: Arc<Chom>, f: F) -> Result<T, UiError>
where
    T: Send + 'static,
    F: FnOnce(&Chom) -> chom_core::Result<T> + Send + 'static,
{
    tauri::async_runtime::spawn_blocking(move || f(&core))
        .await
        .map_err(|e| UiError::new(chom_core::ErrorCode::Internal, format!("internal error: {e}")))?
        .map_err(UiError::from)
}
