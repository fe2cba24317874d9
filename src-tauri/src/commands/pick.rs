//! The OS's own file chooser, for the paths a deploy reads on this
//! computer. The path field stays typeable: a chooser is a convenience, and
//! scripts (and WebDriver) type the path.

use std::path::{Path, PathBuf};

use serde::Deserialize;
use tauri::Manager;
use tauri_plugin_dialog::DialogExt;

use crate::UiError;

/// What the chooser picks.
#[derive(Debug, Clone, Copy, Deserialize, specta::Type)]
#[serde(rename_all = "lowercase")]
pub enum PickKind {
    /// A folder whose files become a release.
    Folder,
    /// A release as a .tar.gz (a WordPress tarball).
    Tarball,
    /// Any file (an ssh config, known_hosts, an inventory to import).
    File,
}

/// Opens the chooser over the window, in the folder of what the field
/// holds (else the home folder); the chosen path, or `null` when the
/// operator closed it.
#[tauri::command]
#[specta::specta]
pub async fn pick_path(
    window: tauri::WebviewWindow,
    kind: PickKind,
    current: String,
) -> Result<Option<String>, UiError> {
    let mut dialog = window.dialog().file().set_parent(&window);
    if let Some(start) = start_folder(Path::new(current.trim())).or_else(|| window.path().home_dir().ok()) {
        dialog = dialog.set_directory(start);
    }
    // The chooser blocks until it closes: off the async workers.
    let picked = tauri::async_runtime::spawn_blocking(move || match kind {
        PickKind::Folder => dialog.set_title("Folder to deploy").blocking_pick_folder(),
        PickKind::Tarball => {
            dialog.set_title("Release tarball").add_filter("gzip tarball", &["gz", "tgz"]).blocking_pick_file()
        }
        PickKind::File => dialog.set_title("File to import").blocking_pick_file(),
    })
    .await
    .map_err(|e| UiError::new(chom_core::ErrorCode::Internal, format!("the file chooser failed: {e}")))?;
    picked
        .map(|p| {
            p.into_path().map(|p| p.display().to_string()).map_err(|e| {
                UiError::new(
                    chom_core::ErrorCode::InvalidInput,
                    format!("the chosen item is not a path on this computer: {e}"),
                )
            })
        })
        .transpose()
}

/// The folder a chooser opens in for a field holding `current`: the
/// nearest existing folder on its path.
fn start_folder(current: &Path) -> Option<PathBuf> {
    current.is_absolute().then_some(())?;
    current.ancestors().find(|p| p.is_dir()).map(Path::to_path_buf)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_chooser_opens_at_the_nearest_existing_folder() {
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("site.tar.gz");
        std::fs::write(&file, b"x").unwrap();
        assert_eq!(start_folder(dir.path()), Some(dir.path().to_path_buf()));
        assert_eq!(start_folder(&file), Some(dir.path().to_path_buf()), "a file opens at its folder");
        assert_eq!(start_folder(&dir.path().join("gone/deeper")), Some(dir.path().to_path_buf()));
        assert_eq!(start_folder(Path::new("relative/path")), None, "relative paths have no folder here");
        assert_eq!(start_folder(Path::new("")), None);
    }
}
