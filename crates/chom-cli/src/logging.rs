//! The CLI's log: a daily file in the data directory (a week kept), and
//! stderr with -v. RUST_LOG overrides the levels. Secrets are never logged:
//! core spans skip their arguments and errors carry no secret values.

use std::path::Path;

use tracing_appender::non_blocking::WorkerGuard;
use tracing_appender::rolling::{Builder, Rotation};
use tracing_subscriber::layer::SubscriberExt;
use tracing_subscriber::util::SubscriberInitExt;
use tracing_subscriber::{fmt, EnvFilter, Layer};

pub fn init(data_dir: &Path, verbose: u8) -> Option<WorkerGuard> {
    let stderr_level = match verbose {
        0 => None,
        1 => Some("info"),
        _ => Some("debug"),
    };
    let stderr = stderr_level.map(|level| {
        let filter = EnvFilter::try_from_default_env()
            .unwrap_or_else(|_| EnvFilter::new(format!("chom_core={level},chom={level}")));
        fmt::layer().with_writer(std::io::stderr).with_target(false).with_filter(filter)
    });
    let logs = data_dir.join("logs");
    // tracing-appender prunes old files at start and complains if the folder is missing.
    let _ = std::fs::create_dir_all(&logs);
    let (file, guard) = match Builder::new()
        .rotation(Rotation::DAILY)
        .filename_prefix("chom")
        .filename_suffix("log")
        .max_log_files(7)
        .build(&logs)
    {
        Ok(appender) => {
            let (writer, guard) = tracing_appender::non_blocking(appender);
            let filter =
                EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new("chom_core=info,chom=info"));
            (Some(fmt::layer().with_writer(writer).with_ansi(false).with_filter(filter)), Some(guard))
        }
        Err(e) => {
            eprintln!("chom: cannot write logs under {}: {e}", data_dir.display());
            (None, None)
        }
    };
    let _ = tracing_subscriber::registry().with(stderr).with(file).try_init();
    guard
}
