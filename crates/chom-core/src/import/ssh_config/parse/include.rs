//! `Include`: each argument a glob, anchored in ~/.ssh for the user's
//! files and in the system file's directory (/etc/ssh) for the system's;
//! matches read in lexical order, none is fine, loops and nesting deeper
//! than OpenSSH's 16 are errors, files others can write are warned about.

use std::path::{Path, PathBuf};

use super::{Entry, Included, Loader, MAX_INCLUDE_DEPTH};
use crate::import::ssh_config::glob::glob;
use crate::import::ssh_config::{expand, SshConfigError};

impl Loader<'_> {
    /// `Err` inside when OpenSSH refuses the line (the caller warns).
    pub(super) fn include(
        &mut self,
        file: usize,
        line: u32,
        args: Vec<String>,
        user_conf: bool,
        depth: usize,
        stack: &mut Vec<PathBuf>,
    ) -> Result<Result<Vec<Included>, String>, SshConfigError> {
        if args.is_empty() || args.iter().any(String::is_empty) {
            return Ok(Err("empty argument".to_string()));
        }
        let home = self.ctx.home.to_string_lossy().into_owned();
        let mut out = Vec::new();
        for arg in args {
            if arg.starts_with('~') && !user_conf {
                return Ok(Err(format!("bad include path {arg} (~ is for user configs only)")));
            }
            let pattern = if arg.starts_with('/') || arg.starts_with('~') {
                arg.clone()
            } else if user_conf {
                format!("~/.ssh/{arg}")
            } else {
                format!("{}/{arg}", self.system_dir.to_string_lossy())
            };
            let pattern = match expand::tilde(&pattern, &home, &self.ctx.local_user) {
                Ok(p) => p,
                Err(_) => {
                    self.warn(file, line, format!("Include {arg}: CHOM expands ~ only to your own home; skipped"));
                    continue;
                }
            };
            for path in glob(&pattern) {
                if let Some(entries) = self.include_file(file, line, &path, user_conf, depth, stack)? {
                    out.push(Included { entries });
                }
            }
        }
        Ok(Ok(out))
    }

    fn include_file(
        &mut self,
        file: usize,
        line: u32,
        path: &Path,
        user_conf: bool,
        depth: usize,
        stack: &mut Vec<PathBuf>,
    ) -> Result<Option<Vec<Entry>>, SshConfigError> {
        let here = || (self.files[file].clone(), line);
        if depth + 1 > MAX_INCLUDE_DEPTH {
            let (file, line) = here();
            return Err(SshConfigError::IncludeTooDeep {
                file,
                line,
                path: path.to_path_buf(),
                max: MAX_INCLUDE_DEPTH,
            });
        }
        let canon = canonical(path);
        if let Some(start) = stack.iter().position(|p| *p == canon) {
            let (file, line) = here();
            let chain: Vec<String> =
                stack[start..].iter().chain([&canon]).map(|p| p.to_string_lossy().into_owned()).collect();
            return Err(SshConfigError::IncludeLoop {
                file,
                line,
                path: path.to_path_buf(),
                chain: chain.join(" -> "),
            });
        }
        // ssh reads a directory as an empty file.
        if std::fs::metadata(path).is_ok_and(|m| m.is_dir()) {
            return Ok(None);
        }
        let bytes = match std::fs::read(path) {
            Ok(b) => b,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
            Err(e) => {
                self.warn(
                    file,
                    line,
                    format!("OpenSSH refuses the config: cannot open included {}: {e}", path.display()),
                );
                return Ok(None);
            }
        };
        let idx = self.add_file(path);
        self.check_permissions(path, file, line);
        stack.push(canon);
        let entries = self.parse(&bytes, idx, user_conf, depth + 1, stack);
        stack.pop();
        entries.map(Some)
    }

    /// readconf.c SSHCONF_CHECKPERM: owned by root or the user, writable by
    /// nobody else; otherwise ssh stops with "Bad owner or permissions".
    pub(super) fn check_permissions(&mut self, path: &Path, file: usize, line: u32) {
        #[cfg(unix)]
        {
            use std::os::unix::fs::MetadataExt;
            let Ok(meta) = std::fs::metadata(path) else { return };
            // SAFETY: getuid has no preconditions and cannot fail.
            let uid = unsafe { libc::getuid() };
            if (meta.uid() != 0 && meta.uid() != uid) || meta.mode() & 0o022 != 0 {
                self.warn(
                    file,
                    line,
                    format!(
                        "OpenSSH refuses {}: bad owner or permissions (it must be yours and not writable by others); \
                         run chmod go-w on it",
                        path.display()
                    ),
                );
            }
        }
        #[cfg(not(unix))]
        let _ = (path, file, line);
    }
}

pub(super) fn canonical(path: &Path) -> PathBuf {
    std::fs::canonicalize(path).unwrap_or_else(|_| path.to_path_buf())
}
