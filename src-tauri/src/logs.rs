//! The app's log: daily files under the data directory, a week kept.

use std::path::Path;

use tracing_appender::non_blocking::WorkerGuard;
use tracing_appender::rolling::{Builder, Rotation};
use tracing_subscriber::EnvFilter;

pub fn init(data_dir: &Path) -> Option<WorkerGuard> {
    let logs = data_dir.join("logs");
    std::fs::create_dir_all(&logs).ok()?;
    let appender = Builder::new()
        .rotation(Rotation::DAILY)
        .filename_prefix("chom-desktop")
        .filename_suffix("log")
        .max_log_files(7)
        .build(&logs)
        .ok()?;
    let (writer, guard) = tracing_appender::non_blocking(appender);
    let filter =
        EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new("chom_core=info,chom_desktop=info"));
    let _ = tracing_subscriber::fmt().with_writer(writer).with_ansi(false).with_env_filter(filter).try_init();
    Some(guard)
}
