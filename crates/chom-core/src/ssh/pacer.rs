//! How many connection attempts run at once, found as TCP finds its
//! window: it grows while handshakes stay fast and halves when they slow
//! down or time out, never past the operator's `--connect-parallel`.
//!
//! A handshake costs CPU on both ends (key exchange, host key signature,
//! the login's signature; sshd forks for each). Started all at once on a
//! busy client or server, hundreds of healthy hosts miss a short connect
//! timeout only because they wait for a CPU; started as fast as they
//! finish, the same hosts answer in milliseconds each. An attempt's
//! timeout starts when it holds a slot, so waiting for one never counts.

use std::sync::Mutex;
use std::time::{Duration, Instant};

use tokio::sync::Notify;

/// Attempts in flight at first (slow start doubles it while they are fast).
const INITIAL_WINDOW: f64 = 8.0;
/// A handshake slower than this share of the connect timeout is a sign of
/// congestion: the window shrinks before attempts start to time out.
const SLOW_SHARE: u32 = 4;

pub struct Pacer {
    max: usize,
    state: Mutex<State>,
    freed: Notify,
}

struct State {
    window: f64,
    in_flight: usize,
    /// Doubling (until the first sign of congestion) or growing by one per
    /// window of fast handshakes.
    slow_start: bool,
    /// Once shrunk, the window shrinks again only after the attempts that
    /// started before that had their chance to finish.
    last_cut: Option<Instant>,
    /// How long answered handshakes take, smoothed (1/8 per answer).
    smoothed: Option<Duration>,
}

/// How an attempt that held a slot ended, for the window.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Outcome {
    /// Connected (or refused by the server's answer: a fast round trip).
    Answered,
    /// Timed out: congestion, or a host that is down.
    TimedOut,
}

/// A slot; give it back with `Pacer::done`, or drop it (an attempt that was
/// cancelled: the window stays as it is).
pub struct Slot<'p> {
    pacer: &'p Pacer,
    started: Instant,
    ended: bool,
}

impl Pacer {
    pub fn new(max: usize) -> Pacer {
        let max = max.max(1);
        let state = State {
            window: INITIAL_WINDOW.min(max as f64),
            in_flight: 0,
            slow_start: true,
            last_cut: None,
            smoothed: None,
        };
        Pacer { max, state: Mutex::new(state), freed: Notify::new() }
    }

    /// Waits for a slot under the current window.
    pub async fn acquire(&self) -> Slot<'_> {
        loop {
            let freed = self.freed.notified();
            tokio::pin!(freed);
            // Registered before the check: a slot freed in between wakes it.
            freed.as_mut().enable();
            {
                let mut s = self.lock();
                if (s.in_flight as f64) < s.window.floor().max(1.0) {
                    s.in_flight += 1;
                    return Slot { pacer: self, started: Instant::now(), ended: false };
                }
            }
            freed.await;
        }
    }

    /// The current window.
    pub fn window(&self) -> usize {
        self.lock().window.floor().max(1.0) as usize
    }

    /// Gives `slot` back and adjusts the window by how its attempt went;
    /// `timeout` is the connect timeout the attempt had.
    pub fn done(&self, slot: Slot<'_>, outcome: Outcome, timeout: Duration) {
        let took = slot.started.elapsed();
        self.done_after(slot, outcome, took, timeout);
    }

    fn done_after(&self, mut slot: Slot<'_>, outcome: Outcome, took: Duration, timeout: Duration) {
        slot.ended = true;
        let mut s = self.lock();
        s.in_flight = s.in_flight.saturating_sub(1);
        let slow = match outcome {
            Outcome::Answered => {
                s.smoothed = Some(s.smoothed.map_or(took, |m| (m * 7 + took) / 8));
                took > timeout / SLOW_SHARE
            }
            Outcome::TimedOut => s.smoothed.is_none_or(|m| m > timeout / (2 * SLOW_SHARE)),
        };
        if outcome == Outcome::TimedOut && !slow {
            // Amid handshakes that stay fast, a timeout is a host that is
            // down, not congestion: the pace holds.
        } else if slow {
            // One cut per burst: attempts that started before the last cut
            // saw the old congestion, not a new one.
            let fresh = s.last_cut.is_none_or(|at| slot.started > at);
            if fresh {
                s.window = (s.window / 2.0).max(1.0);
                s.slow_start = false;
                s.last_cut = Some(Instant::now());
            }
        } else if s.slow_start {
            s.window = (s.window + 1.0).min(self.max as f64);
        } else {
            s.window = (s.window + 1.0 / s.window).min(self.max as f64);
        }
        self.wake(s);
    }

    /// Wakes as many waiters as there are free slots now (each re-checks):
    /// not all of them, so a thousand waiting hosts are not all woken for
    /// every slot given back.
    fn wake(&self, s: std::sync::MutexGuard<'_, State>) {
        let free = (s.window.floor().max(1.0) as usize).saturating_sub(s.in_flight);
        drop(s);
        for _ in 0..free {
            self.freed.notify_one();
        }
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(|p| p.into_inner())
    }
}

impl Drop for Slot<'_> {
    fn drop(&mut self) {
        if !self.ended {
            let mut s = self.pacer.lock();
            s.in_flight = s.in_flight.saturating_sub(1);
            self.pacer.wake(s);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const T: Duration = Duration::from_secs(1);

    fn answered(p: &Pacer, n: usize, took: Duration) {
        let rt = tokio::runtime::Builder::new_current_thread().build().unwrap();
        for _ in 0..n {
            let slot = rt.block_on(p.acquire());
            p.done_after(slot, Outcome::Answered, took, T);
        }
    }

    fn fast(p: &Pacer, n: usize) {
        answered(p, n, Duration::from_millis(5));
    }

    /// Fast answers open the window up to the operator's limit, never past.
    #[test]
    fn fast_handshakes_grow_the_window_to_the_limit() {
        let p = Pacer::new(100);
        assert_eq!(p.window(), 8);
        fast(&p, 20);
        assert_eq!(p.window(), 28, "slow start: one more per fast answer");
        fast(&p, 500);
        assert_eq!(p.window(), 100);
        let small = Pacer::new(3);
        assert_eq!(small.window(), 3);
    }

    /// Slow answers halve the window once per burst; the answers after
    /// that grow it by one per window, not by one each; timeouts while
    /// handshakes are slow cut it again.
    #[test]
    fn slow_handshakes_halve_the_window_once_per_burst() {
        let rt = tokio::runtime::Builder::new_current_thread().build().unwrap();
        let p = Pacer::new(64);
        fast(&p, 24);
        assert_eq!(p.window(), 32);
        let slots: Vec<Slot<'_>> = (0..4).map(|_| rt.block_on(p.acquire())).collect();
        for slot in slots {
            p.done_after(slot, Outcome::Answered, Duration::from_millis(600), T);
        }
        assert_eq!(p.window(), 16, "four slow answers of one burst cut once");
        fast(&p, 17);
        assert_eq!(p.window(), 17, "congestion avoidance: one per window");
        let burst: Vec<Slot<'_>> = (0..8).map(|_| rt.block_on(p.acquire())).collect();
        for slot in burst {
            p.done_after(slot, Outcome::Answered, Duration::from_millis(400), T);
        }
        assert_eq!(p.window(), 8);
        let slot = rt.block_on(p.acquire());
        p.done_after(slot, Outcome::TimedOut, T, T);
        assert_eq!(p.window(), 4, "a timeout while handshakes are slow is a new cut");
    }

    /// A host that is down times out while the others answer fast: the
    /// window holds (and a fleet with no answer yet starts cautious).
    #[test]
    fn a_dead_host_among_fast_ones_keeps_the_pace() {
        let rt = tokio::runtime::Builder::new_current_thread().build().unwrap();
        let p = Pacer::new(64);
        fast(&p, 24);
        let slot = rt.block_on(p.acquire());
        p.done_after(slot, Outcome::TimedOut, T, T);
        assert_eq!(p.window(), 32);
        let cold = Pacer::new(64);
        let slot = rt.block_on(cold.acquire());
        cold.done_after(slot, Outcome::TimedOut, T, T);
        assert_eq!(cold.window(), 4, "no answer seen yet: a timeout cuts");
    }

    /// Many more attempts than the window all get through, one slot each
    /// time one is given back, as the window opens.
    #[test]
    fn every_waiter_gets_a_slot_in_turn() {
        let rt = tokio::runtime::Builder::new_multi_thread().worker_threads(2).enable_time().build().unwrap();
        rt.block_on(async {
            let p = std::sync::Arc::new(Pacer::new(64));
            let peak = std::sync::Arc::new(std::sync::atomic::AtomicUsize::new(0));
            let mut tasks = tokio::task::JoinSet::new();
            for _ in 0..1000 {
                let (p, peak) = (p.clone(), peak.clone());
                tasks.spawn(async move {
                    let slot = p.acquire().await;
                    let busy = p.lock().in_flight;
                    peak.fetch_max(busy, std::sync::atomic::Ordering::Relaxed);
                    tokio::time::sleep(Duration::from_millis(1)).await;
                    p.done(slot, Outcome::Answered, T);
                });
            }
            let all =
                tokio::time::timeout(Duration::from_secs(20), async { while tasks.join_next().await.is_some() {} });
            all.await.expect("every attempt got a slot");
            assert_eq!(p.window(), 64);
            assert!(peak.load(std::sync::atomic::Ordering::Relaxed) <= 64);
        });
    }

    /// Slots beyond the window wait until one is given back; a dropped slot
    /// (a cancelled attempt) frees its place without touching the window.
    #[test]
    fn attempts_beyond_the_window_wait() {
        let rt = tokio::runtime::Builder::new_current_thread().enable_time().build().unwrap();
        rt.block_on(async {
            let p = Pacer::new(2);
            let a = p.acquire().await;
            let b = p.acquire().await;
            let third = tokio::time::timeout(Duration::from_millis(50), p.acquire()).await;
            assert!(third.is_err(), "a third waits while two are in flight");
            drop(a);
            let c = tokio::time::timeout(Duration::from_millis(50), p.acquire()).await.expect("freed by the drop");
            p.done(b, Outcome::Answered, T);
            p.done(c, Outcome::Answered, T);
            assert_eq!(p.window(), 2);
        });
    }
}
