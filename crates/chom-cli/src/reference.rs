//! What describes `chom` rather than runs it: shell completions, man
//! pages and the version of the `--json` output's schema. None of it opens
//! the data directory.

use std::io::Write;
use std::path::Path;

use clap::CommandFactory;

use crate::args::Cli;

/// The `--json` output's schema. Within a version, fields are only added;
/// a field renamed, retyped or removed, or an exit status changed, is a
/// new version. docs/cli-json.md describes version 1.
pub const JSON_SCHEMA: u32 = 1;

pub fn completions(shell: clap_complete::Shell) -> i32 {
    let mut script = Vec::new();
    clap_complete::generate(shell, &mut Cli::command(), "chom", &mut script);
    written(std::io::stdout().lock().write_all(&script), "the completion script")
}

pub fn man(dir: Option<&Path>) -> i32 {
    let result = match dir {
        None => {
            let mut page = Vec::new();
            clap_mangen::Man::new(Cli::command())
                .render(&mut page)
                .and_then(|()| std::io::stdout().lock().write_all(&page))
        }
        Some(dir) => std::fs::create_dir_all(dir).and_then(|()| clap_mangen::generate_to(Cli::command(), dir)),
    };
    written(result, "the man pages")
}

/// A reader that stopped early (`| head`) is not a failure.
fn written(result: std::io::Result<()>, what: &str) -> i32 {
    match result {
        Ok(()) => 0,
        Err(e) if e.kind() == std::io::ErrorKind::BrokenPipe => 0,
        Err(e) => {
            eprintln!("chom: cannot write {what}: {e}");
            1
        }
    }
}

pub fn schema(as_json: bool) -> i32 {
    let version = env!("CARGO_PKG_VERSION");
    let mut out = std::io::stdout().lock();
    let written = if as_json {
        let doc =
            serde_json::json!({ "json_schema": JSON_SCHEMA, "chom": version, "described_in": "docs/cli-json.md" });
        writeln!(out, "{doc:#}")
    } else {
        writeln!(out, "chom {version}: --json output schema {JSON_SCHEMA} (docs/cli-json.md describes it)")
    };
    self::written(written, "the schema")
}

#[cfg(test)]
mod tests {
    use super::*;

    /// One page per command, down to the newest ones.
    #[test]
    fn man_pages_are_written_for_every_command() {
        let dir = tempfile::tempdir().unwrap();
        assert_eq!(man(Some(dir.path())), 0);
        for page in ["chom.1", "chom-key-rotate.1", "chom-import-known-hosts.1", "chom-backup-restore.1"] {
            let text = std::fs::read_to_string(dir.path().join(page)).unwrap_or_else(|e| panic!("{page}: {e}"));
            assert!(text.contains(".TH"), "{page} is a man page");
        }
    }
}
