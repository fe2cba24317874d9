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

/// Makes `dir` the private data directory it must be: created if missing,
/// 0700, and what is in it (the SQLite database with its WAL and SHM, the
/// logs) 0600, folders 0700. The front ends call it first, with
/// `private_umask`; opening the core calls it again once the database
/// exists.
pub fn secure_data_dir(dir: &std::path::Path) -> std::io::Result<()> {
    std::fs::create_dir_all(dir)?;
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let private = |p: &std::path::Path, dir: bool| {
            std::fs::set_permissions(p, std::fs::Permissions::from_mode(if dir { 0o700 } else { 0o600 }))
        };
        private(dir, true)?;
        let mut stack = vec![dir.to_owned()];
        while let Some(d) = stack.pop() {
            for entry in std::fs::read_dir(&d)? {
                let entry = entry?;
                let kind = entry.file_type()?;
                if kind.is_dir() {
                    private(&entry.path(), true)?;
                    stack.push(entry.path());
                } else if kind.is_file() {
                    private(&entry.path(), false)?;
                }
            }
        }
    }
    Ok(())
}

/// From here on this process creates files for its user only (umask 077),
/// so a new day's log or a new WAL is private too. For the binaries' main:
/// a library must not change its host process's umask.
pub fn private_umask() {
    // SAFETY: umask only sets this process's file creation mask.
    #[cfg(unix)]
    unsafe {
        libc::umask(0o077);
    }
}

#[cfg(all(test, unix))]
mod tests {
    use std::os::unix::fs::PermissionsExt;

    #[test]
    fn the_data_directory_and_its_files_are_private() {
        let tmp = tempfile::tempdir().unwrap();
        let dir = tmp.path().join("chom");
        std::fs::create_dir_all(dir.join("logs")).unwrap();
        std::fs::write(dir.join("chom.sqlite3"), b"").unwrap();
        std::fs::write(dir.join("logs/chom.2026-12-01.log"), b"").unwrap();
        for p in [&dir, &dir.join("logs")] {
            std::fs::set_permissions(p, std::fs::Permissions::from_mode(0o755)).unwrap();
        }
        super::secure_data_dir(&dir).unwrap();
        let mode = |p: &std::path::Path| std::fs::metadata(p).unwrap().permissions().mode() & 0o777;
        assert_eq!(mode(&dir), 0o700);
        assert_eq!(mode(&dir.join("logs")), 0o700);
        assert_eq!(mode(&dir.join("chom.sqlite3")), 0o600);
        assert_eq!(mode(&dir.join("logs/chom.2026-12-01.log")), 0o600);
    }
}
