//! Retries and the per-server circuit breaker, around dialling a server.
//! A connection attempt that failed before anything ran (refused, timed
//! out, unreachable, dropped in the handshake) is retried with exponential
//! backoff and jitter; a changed host key, failed authentication or a
//! protocol error never is. A server whose dials keep failing is paused:
//! after `failures` in a row its breaker opens for `open_for`, dials fail
//! at once, then one trial decides (a success closes it, a failure opens
//! it again). The state lives in the cache, so it holds across CLI runs
//! and the app; a success or the operator resets it.

use crate::ids::ServerId;
use std::time::Duration;

use chrono::{DateTime, Utc};

use super::SshError;

#[derive(Debug, Clone, Copy)]
pub struct RetryPolicy {
    /// Attempts after the first, for errors safe to retry.
    pub retries: usize,
    /// The first backoff; each next one doubles, with jitter.
    pub first_delay: Duration,
}

impl Default for RetryPolicy {
    fn default() -> Self {
        RetryPolicy { retries: 2, first_delay: Duration::from_millis(250) }
    }
}

#[derive(Debug, Clone, Copy)]
pub struct BreakerPolicy {
    /// Failed dials in a row (after their retries) that open the breaker; 0 turns it off.
    pub failures: u32,
    pub open_for: Duration,
}

impl Default for BreakerPolicy {
    fn default() -> Self {
        BreakerPolicy { failures: 5, open_for: Duration::from_secs(60) }
    }
}

/// A server's breaker as stored.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct BreakerState {
    pub failures: u32,
    pub open_until: Option<DateTime<Utc>>,
}

impl BreakerState {
    /// `Err(until)` while open; a breaker whose time is up lets one trial through.
    pub fn allows(&self, now: DateTime<Utc>) -> Result<(), DateTime<Utc>> {
        match self.open_until {
            Some(until) if until > now => Err(until),
            _ => Ok(()),
        }
    }

    /// After a dial: a success closes the breaker; a failure counts, and
    /// opens it (again) once there are enough in a row.
    pub fn after(self, ok: bool, now: DateTime<Utc>, policy: &BreakerPolicy) -> BreakerState {
        if ok {
            return BreakerState::default();
        }
        let failures = self.failures.saturating_add(1);
        let open = policy.failures > 0 && failures >= policy.failures;
        let open_for = chrono::Duration::from_std(policy.open_for).unwrap_or(chrono::Duration::MAX);
        BreakerState {
            failures,
            open_until: open.then(|| now.checked_add_signed(open_for).unwrap_or(DateTime::<Utc>::MAX_UTC)),
        }
    }
}

/// Decides whether a server may be dialled and hears how each dial ended;
/// chom-core's cache implements it. The pool dials without one in tests.
pub trait DialGate: Send + Sync {
    fn allow(&self, server_id: ServerId, server: &str) -> Result<(), SshError>;
    fn record(&self, server_id: ServerId, result: Result<(), &SshError>);
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn opens_after_the_failures_in_a_row_then_one_trial_decides() {
        let policy = BreakerPolicy { failures: 3, open_for: Duration::from_secs(60) };
        let t0 = Utc::now();
        let mut s = BreakerState::default();
        for _ in 0..2 {
            s = s.after(false, t0, &policy);
            assert!(s.allows(t0).is_ok());
        }
        s = s.after(false, t0, &policy);
        let until = s.allows(t0 + chrono::Duration::seconds(59)).unwrap_err();
        assert_eq!(until, t0 + chrono::Duration::seconds(60));
        // Time is up: one trial goes through; its failure opens it again.
        let t1 = t0 + chrono::Duration::seconds(61);
        assert!(s.allows(t1).is_ok());
        let again = s.after(false, t1, &policy);
        assert!(again.allows(t1).is_err());
        assert_eq!(again.failures, 4);
        // A success closes it.
        assert_eq!(again.after(true, t1, &policy), BreakerState::default());
        // 0 turns it off; a huge interval does not overflow.
        let off = BreakerPolicy { failures: 0, open_for: Duration::MAX };
        assert!(BreakerState { failures: u32::MAX, open_until: None }.after(false, t1, &off).allows(t1).is_ok());
        let huge = BreakerPolicy { failures: 1, open_for: Duration::MAX };
        assert!(BreakerState::default().after(false, t1, &huge).allows(t1).is_err());
    }
}
