//! Imports of servers and host keys from ssh config, known_hosts and
//! Ansible: planned (a dry run) and applied by the core.

use std::path::PathBuf;

use chom_core::{ImportPlan, ImportSource};
use tauri::State;

use crate::{AppState, UiError};

/// What importing `source` from `path` (its default file where empty)
/// would do; with `dry_run` false, it is done, in one transaction.
#[tauri::command]
#[specta::specta]
pub async fn import_plan(
    state: State<'_, AppState>,
    source: ImportSource,
    path: Option<String>,
    dry_run: bool,
) -> Result<ImportPlan, UiError> {
    let path = path.filter(|p| !p.trim().is_empty()).map(PathBuf::from);
    Ok(state.core()?.imports().import(source, path.as_deref(), dry_run).await?)
}
