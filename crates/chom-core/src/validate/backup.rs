//! Paths into a backup and into a site's `shared/`, for restoring one file
//! or folder. File names are the site's own (spaces, accents), so the
//! alphabet is wide; what is refused is what could leave the site or
//! change meaning on the server: `..`, absolute paths, control
//! characters, and restic's pattern characters.

use serde::{Deserialize, Serialize};

use super::{string_type, ValidationError};

/// Checks a relative path: 1-1024 bytes, segments of at most 255 bytes,
/// none empty, `.` or `..`, no control or pattern characters.
fn check_relative(field: &'static str, value: &str) -> Result<(), ValidationError> {
    let err = |rule: &str| Err(ValidationError::new(field, value, rule));
    if value.is_empty() || value.len() > 1024 {
        return err("use a relative path of 1-1024 characters");
    }
    if value.starts_with('/') {
        return err("use a path relative to the site, not an absolute one");
    }
    if value.chars().any(|c| c.is_control() || matches!(c, '*' | '?' | '[' | ']' | '\\')) {
        return err("no control characters and none of * ? [ ] \\");
    }
    for segment in value.split('/') {
        if segment.is_empty() || segment == "." || segment == ".." {
            return err("no empty, '.' or '..' segments, and no trailing '/'");
        }
        if segment.len() > 255 {
            return err("a name is at most 255 bytes long");
        }
    }
    Ok(())
}

/// A file or folder in a backup of a site, as the site had it:
/// `shared/...` (uploads, storage) or `current/...` (the backed-up release).
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct BackupPath(String);

impl BackupPath {
    pub const FIELD: &'static str = "path in the backup";

    pub fn parse(value: &str) -> Result<Self, ValidationError> {
        check_relative(Self::FIELD, value)?;
        let under = value.split_once('/').map(|(top, _)| top);
        if !matches!(under, Some("shared" | "current")) {
            return Err(ValidationError::new(
                Self::FIELD,
                value,
                "name a path under shared/ or current/ (the backed-up release), e.g. shared/wp-content/uploads/2024",
            ));
        }
        Ok(BackupPath(value.to_owned()))
    }

    /// The last segment: the name the restored file or folder keeps.
    pub fn name(&self) -> &str {
        self.0.rsplit('/').next().unwrap_or(&self.0)
    }
}

string_type!(BackupPath);

/// A folder of a site's `shared/`, relative to it.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct SharedFolder(String);

impl SharedFolder {
    pub const FIELD: &'static str = "folder in shared/";

    pub fn parse(value: &str) -> Result<Self, ValidationError> {
        check_relative(Self::FIELD, value)?;
        Ok(SharedFolder(value.to_owned()))
    }
}

string_type!(SharedFolder);

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hostile_paths_are_refused() {
        for bad in [
            "../../etc/shadow",
            "shared/../../etc/shadow",
            "/etc/shadow",
            "shared",
            "shared/",
            "current",
            "releases/x/index.php",
            "shared/a//b",
            "shared/./a",
            "shared/a/..",
            "shared/a\nb",
            "shared/*",
            "shared/a?",
            "shared/[ab]",
            "shared/a\\b",
            "",
        ] {
            assert!(BackupPath::parse(bad).is_err(), "{bad:?} was accepted");
        }
        assert!(BackupPath::parse(&format!("shared/{}", "a".repeat(256))).is_err());
        for bad in ["../x", "/tmp", "a/../../b", "a/", "x\u{7}", ""] {
            assert!(SharedFolder::parse(bad).is_err(), "{bad:?} was accepted");
        }
    }

    #[test]
    fn real_file_names_are_taken() {
        let p = BackupPath::parse("shared/wp-content/uploads/2024/05/Été photo (1).jpg").unwrap();
        assert_eq!(p.name(), "Été photo (1).jpg");
        assert_eq!(BackupPath::parse("current/index.html").unwrap().name(), "index.html");
        assert!(BackupPath::parse("shared/-leading dash").is_ok());
        assert!(SharedFolder::parse("wp-content/uploads").is_ok());
    }
}
