//! Where CHOM keeps its data.

use std::path::PathBuf;

/// `CHOM_DATA_DIR` if set, else the OS data directory (`$XDG_DATA_HOME/chom`,
/// `~/.local/share/chom` on Linux; `~/Library/Application Support/chom` on
/// macOS; `%APPDATA%\chom` on Windows).
pub fn default_data_dir() -> PathBuf {
    if let Some(dir) = std::env::var_os("CHOM_DATA_DIR").filter(|d| !d.is_empty()) {
        return PathBuf::from(dir);
    }
    let home = || std::env::var_os("HOME").map(PathBuf::from).unwrap_or_else(|| PathBuf::from("."));
    if cfg!(target_os = "windows") {
        return std::env::var_os("APPDATA").map(PathBuf::from).unwrap_or_else(home).join("chom");
    }
    if cfg!(target_os = "macos") {
        return home().join("Library/Application Support/chom");
    }
    std::env::var_os("XDG_DATA_HOME")
        .filter(|d| !d.is_empty())
        .map(PathBuf::from)
        .unwrap_or_else(|| home().join(".local/share"))
        .join("chom")
}
