pub mod fleet;
pub mod history;
pub mod keys;
pub mod servers;
pub mod sites;

use tokio_util::sync::CancellationToken;

/// Ctrl-C cancels the job; it still ends with its results stored (a
/// deploy says which release serves).
pub(crate) fn cancel_on_ctrl_c() -> CancellationToken {
    let token = CancellationToken::new();
    let t = token.clone();
    tokio::spawn(async move {
        if tokio::signal::ctrl_c().await.is_ok() {
            t.cancel();
        }
    });
    token
}
