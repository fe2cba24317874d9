//! Fleet-wide operations: bounded concurrent fan-out where one bad host never
//! fails the batch, the health probe, and ad-hoc commands.

pub mod probe;

use std::future::Future;
use std::sync::Arc;
use std::time::{Duration, Instant};

use tokio::sync::Semaphore;
use tokio::task::JoinSet;
use tokio_util::sync::CancellationToken;

use crate::error::Error;

/// Runs `work` for every item with at most `parallel` in flight. `on_done`
/// sees each result as it completes; the return value has every result, with
/// its duration, in input order. A cancelled token makes every unfinished
/// item fail with `Error::Cancelled`.
pub async fn fan_out<I, T, F, Fut>(
    items: Vec<I>,
    parallel: usize,
    cancel: &CancellationToken,
    work: F,
    mut on_done: impl FnMut(usize, &Result<T, Error>),
) -> Vec<(Result<T, Error>, Duration)>
where
    T: Send + 'static,
    F: Fn(I) -> Fut,
    Fut: Future<Output = Result<T, Error>> + Send + 'static,
{
    let limit = Arc::new(Semaphore::new(parallel.max(1)));
    let mut set = JoinSet::new();
    let n = items.len();
    for (index, item) in items.into_iter().enumerate() {
        let (limit, cancel) = (limit.clone(), cancel.clone());
        let fut = work(item);
        set.spawn(async move {
            let _permit = limit.acquire_owned().await.expect("semaphore never closed");
            let started = Instant::now();
            let outcome = tokio::select! {
                _ = cancel.cancelled() => Err(Error::Cancelled),
                r = fut => r,
            };
            (index, outcome, started.elapsed())
        });
    }
    let mut results: Vec<Option<(Result<T, Error>, Duration)>> = (0..n).map(|_| None).collect();
    while let Some(joined) = set.join_next().await {
        match joined {
            Ok((index, outcome, took)) => {
                on_done(index, &outcome);
                results[index] = Some((outcome, took));
            }
            Err(e) => tracing::error!(error = %e, "a fleet task panicked"),
        }
    }
    results
        .into_iter()
        .map(|r| r.unwrap_or_else(|| (Err(Error::Internal("a fleet task panicked".into())), Duration::ZERO)))
        .collect()
}
