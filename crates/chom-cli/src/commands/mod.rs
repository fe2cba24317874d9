pub mod backups;
pub mod fleet;
pub mod history;
pub mod import;
pub mod keys;
pub mod servers;
pub mod sites;
pub mod transfer;

use chom_core::jobs::{Control, ProgressSink};
use tokio_util::sync::CancellationToken;

/// How a CLI job is watched (`sink`, the progress line) and stopped
/// (Ctrl-C): every job, the same way.
pub(crate) fn control(sink: ProgressSink) -> Control {
    Control::with_cancel(sink, cancel_on_ctrl_c())
}

/// Ctrl-C cancels the job; it still ends with its results stored (a
/// deploy says which release serves).
fn cancel_on_ctrl_c() -> CancellationToken {
    let token = CancellationToken::new();
    let t = token.clone();
    tokio::spawn(async move {
        if tokio::signal::ctrl_c().await.is_ok() {
            t.cancel();
        }
    });
    token
}
