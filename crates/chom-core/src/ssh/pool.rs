//! One connection per server, reused across operations: idle timeout,
//! keepalive (in the russh config), one transparent reconnect when a pooled
//! connection has died, and a fleet-wide bound on connection attempts. A
//! server behind a jump host rides on the jump host's pooled connection, so
//! every server behind one bastion shares one connection to it; when that
//! connection dies, theirs close with it and the next use reconnects both.

use crate::ids::ServerId;
use std::collections::HashMap;
use std::sync::{Arc, Mutex, Weak};
use std::time::Instant;

use tokio::sync::Mutex as AsyncMutex;
use tokio::time::timeout;
use tokio_util::task::TaskTracker;

use backon::{ExponentialBuilder, Retryable};

use super::breaker::DialGate;
use super::client::{self, Connection, Route, SshConfig, Target};
use super::exec::{self, ExecFailure, ExecOutput, Input, OutputLine, OutputSink};
use super::pacer::{Outcome, Pacer};
use super::shell::Shell;
use super::SshError;

/// What a pooled connection was opened for; any difference means reconnect.
#[derive(Clone, PartialEq, Eq)]
struct Endpoint {
    host: String,
    port: u16,
    user: String,
    key: Option<String>,
    pinned: String,
    via: Option<ServerId>,
}

impl Endpoint {
    fn of(t: &Target) -> Endpoint {
        Endpoint {
            host: t.host.to_string(),
            port: t.port.get(),
            user: t.user.to_string(),
            key: t.key.as_ref().map(|(name, _)| name.clone()),
            pinned: t.pinned.iter().chain(&t.pinned_more).map(|p| p.public_key.trim()).collect::<Vec<_>>().join("\n"),
            via: t.jump.as_ref().map(|j| j.server_id),
        }
    }
}

struct Pooled {
    conn: Arc<Connection>,
    endpoint: Endpoint,
    last_used: Instant,
    /// The long-lived probe shell of this connection, opened on first use.
    shell: Arc<AsyncMutex<Option<Shell>>>,
    /// The jump host's connection this one rides on, kept open while it is.
    _via: Option<Arc<Connection>>,
}

type Slot = Arc<AsyncMutex<Option<Pooled>>>;

pub struct Pool {
    cfg: SshConfig,
    slots: Mutex<HashMap<ServerId, Slot>>,
    /// How many connection attempts run at once (adaptive, at most
    /// `max_connecting`).
    pacer: Pacer,
    /// Stops of cancelled or timed-out commands still on their way out.
    stops: TaskTracker,
    /// The circuit breaker, asked before each dial and told how it ended.
    gate: Option<Arc<dyn DialGate>>,
}

impl Pool {
    /// A new pool. Inside a tokio runtime, a background task closes idle
    /// connections; it ends when the pool is dropped.
    pub fn new(cfg: SshConfig) -> Arc<Pool> {
        Pool::with_gate(cfg, None)
    }

    /// A pool whose dials go through `gate` (the circuit breaker).
    pub fn with_gate(cfg: SshConfig, gate: Option<Arc<dyn DialGate>>) -> Arc<Pool> {
        let pool = Arc::new(Pool {
            pacer: Pacer::new(cfg.max_connecting),
            cfg,
            slots: Mutex::default(),
            stops: TaskTracker::new(),
            gate,
        });
        if let Ok(rt) = tokio::runtime::Handle::try_current() {
            let weak: Weak<Pool> = Arc::downgrade(&pool);
            let every = (pool.cfg.idle_timeout / 2).max(std::time::Duration::from_secs(1));
            rt.spawn(async move {
                loop {
                    tokio::time::sleep(every).await;
                    match weak.upgrade() {
                        Some(pool) => pool.close_idle().await,
                        None => break,
                    }
                }
            });
        }
        pool
    }

    pub fn config(&self) -> &SshConfig {
        &self.cfg
    }

    fn slot(&self, server_id: ServerId) -> Slot {
        let mut slots = self.slots.lock().unwrap_or_else(|p| p.into_inner());
        slots.entry(server_id).or_default().clone()
    }

    /// Drops a server's pooled connection (changed host key, edited server).
    pub async fn evict(&self, server_id: ServerId) {
        let slot = self.slots.lock().unwrap_or_else(|p| p.into_inner()).remove(&server_id);
        if let Some(slot) = slot {
            slot.lock().await.take();
        }
    }

    /// A fleet-wide operation is done with `target`: its connection is
    /// closed unless the pool keeps fleet connections (`SshConfig`).
    pub async fn done_with(&self, target: &Target) {
        if !self.cfg.keep_fleet_connections {
            self.evict(target.server_id).await;
        }
    }

    /// Number of open pooled connections.
    pub async fn open_connections(&self) -> usize {
        let slots: Vec<Slot> = self.slots.lock().unwrap_or_else(|p| p.into_inner()).values().cloned().collect();
        let mut n = 0;
        for slot in slots {
            if slot.lock().await.as_ref().is_some_and(|p| !p.conn.is_closed()) {
                n += 1;
            }
        }
        n
    }

    async fn close_idle(&self) {
        let slots: Vec<Slot> = self.slots.lock().unwrap_or_else(|p| p.into_inner()).values().cloned().collect();
        for slot in slots {
            if let Ok(mut guard) = slot.try_lock() {
                if guard.as_ref().is_some_and(|p| p.last_used.elapsed() >= self.cfg.idle_timeout || p.conn.is_closed())
                {
                    guard.take();
                }
            }
        }
    }

    /// A live connection for `target`: the pooled one, or a new one.
    /// Returns whether it is new.
    async fn checkout(&self, target: &Target, force_new: bool) -> Result<(Arc<Connection>, bool), SshError> {
        self.checkout_with_shell(target, force_new).await.map(|(c, fresh, _)| (c, fresh))
    }

    async fn checkout_with_shell(
        &self,
        target: &Target,
        force_new: bool,
    ) -> Result<(Arc<Connection>, bool, Arc<AsyncMutex<Option<Shell>>>), SshError> {
        let slot = self.slot(target.server_id);
        let mut guard = slot.lock().await;
        let endpoint = Endpoint::of(target);
        if !force_new {
            if let Some(p) = guard.as_mut() {
                let fresh_enough = p.last_used.elapsed() < self.cfg.idle_timeout;
                if p.endpoint == endpoint && fresh_enough && !p.conn.is_closed() {
                    p.last_used = Instant::now();
                    return Ok((p.conn.clone(), false, p.shell.clone()));
                }
            }
        }
        guard.take();
        let route = self.route(target).await?;
        let conn = Arc::new(self.dial(target, &route).await?);
        let shell = Arc::new(AsyncMutex::new(None));
        let via = match route {
            Route::Via(jump) => Some(jump),
            Route::Direct => None,
        };
        *guard =
            Some(Pooled { conn: conn.clone(), endpoint, last_used: Instant::now(), shell: shell.clone(), _via: via });
        Ok((conn, true, shell))
    }

    /// How to reach `target`: directly, or over its jump host's pooled
    /// connection (opened, through its own jump host, if needed).
    pub async fn route(&self, target: &Target) -> Result<Route, SshError> {
        match &target.jump {
            None => Ok(Route::Direct),
            Some(jump) => {
                let (conn, _) = Box::pin(self.checkout(jump, false)).await?;
                Ok(Route::Via(conn))
            }
        }
    }

    /// The host key `target` offers (nothing authenticated there), reached
    /// as its connections are.
    pub async fn fetch_host_key(&self, target: &Target) -> Result<client::HostKeyOffer, SshError> {
        let route = self.route(target).await?;
        client::fetch_host_key(target, &self.cfg, &route).await
    }

    /// A new connection: the breaker asked first, attempts that failed
    /// before anything ran retried with backoff (each holding a slot of the
    /// fleet-wide pacer only while it runs, its timeout counted from then),
    /// the breaker told.
    async fn dial(&self, target: &Target, route: &Route) -> Result<Connection, SshError> {
        if let Some(gate) = &self.gate {
            gate.allow(target.server_id, &target.server)?;
        }
        let policy = self.cfg.retry;
        let backoff = ExponentialBuilder::default()
            .with_min_delay(policy.first_delay)
            .with_max_times(policy.retries)
            .with_jitter();
        let attempt = || async {
            let slot = self.pacer.acquire().await;
            let result = client::connect(target, &self.cfg, route).await;
            let outcome = match &result {
                Err(SshError::ConnectTimeout { .. }) => Outcome::TimedOut,
                _ => Outcome::Answered,
            };
            self.pacer.done(slot, outcome, self.cfg.connect_timeout);
            result
        };
        let result = attempt
            .retry(backoff)
            .when(SshError::is_retryable)
            .notify(|e, after| {
                let window = self.pacer.window();
                tracing::warn!(server = %target.server, error = %e, window, "connecting failed; retrying in {after:?}");
            })
            .await;
        if let Some(gate) = &self.gate {
            gate.record(target.server_id, result.as_ref().map(drop));
        }
        result
    }

    /// Waits (at most `within`) until every stop of a cancelled or timed-out
    /// command has reached its server. A process about to exit calls it:
    /// exiting first would leave those commands running.
    pub async fn finish_stops(&self, within: std::time::Duration) {
        self.stops.close();
        let _ = timeout(within, self.stops.wait()).await;
        self.stops.reopen();
    }

    /// Runs `command` on the target over its pooled connection. A pooled
    /// connection found dead when opening the channel is replaced once,
    /// transparently; a command is never re-run after it started.
    pub async fn exec(
        &self,
        target: &Target,
        command: &str,
        on_line: &mut (dyn FnMut(OutputLine) + Send),
    ) -> Result<ExecOutput, SshError> {
        self.exec_with_input(target, command, None, self.cfg.command_timeout, on_line).await
    }

    /// `exec` with `input` streamed to the command's stdin, for at most
    /// `limit`.
    pub async fn exec_with_input(
        &self,
        target: &Target,
        command: &str,
        input: Option<Input>,
        limit: std::time::Duration,
        on_line: &mut (dyn FnMut(OutputLine) + Send),
    ) -> Result<ExecOutput, SshError> {
        self.exec_streaming(target, command, input, limit, on_line, None).await
    }

    /// `exec_with_input` whose stdout goes to `stdout_to` as raw bytes, not
    /// kept (a download: memory stays flat whatever its size).
    pub async fn exec_streaming(
        &self,
        target: &Target,
        command: &str,
        input: Option<Input>,
        limit: std::time::Duration,
        on_line: &mut (dyn FnMut(OutputLine) + Send),
        stdout_to: Option<OutputSink<'_>>,
    ) -> Result<ExecOutput, SshError> {
        let (conn, fresh) = self.checkout(target, false).await?;
        let channel = match conn.channel_open_session().await {
            Ok(channel) => channel,
            Err(_) if !fresh => {
                tracing::debug!(server = %target.server, "pooled connection was dead; reconnecting once");
                let (conn, _) = self.checkout(target, true).await?;
                match conn.channel_open_session().await {
                    Ok(channel) => channel,
                    Err(e) => return Err(self.failed(target, ExecFailure::ChannelOpen(e), limit).await),
                }
            }
            Err(e) => return Err(self.failed(target, ExecFailure::ChannelOpen(e), limit).await),
        };
        let run = exec::exec((&conn, channel), command, input, self.cfg.exec_limits, on_line, stdout_to, &self.stops);
        match timeout(limit, run).await {
            Ok(Ok(out)) => Ok(out),
            Ok(Err(e)) => Err(self.failed(target, e, limit).await),
            Err(_) => Err(self.failed(target, ExecFailure::TimedOut, limit).await),
        }
    }

    /// Runs a read-only script (the probe) in the connection's long-lived
    /// shell and returns its stdout. Safe to retry, so a dead pooled
    /// connection or shell is replaced once, transparently.
    pub async fn run_in_shell(&self, target: &Target, script: &str) -> Result<String, SshError> {
        let (conn, fresh, shell) = self.checkout_with_shell(target, false).await?;
        match self.shell_on(&conn, &shell, script).await {
            Ok(out) => Ok(out),
            Err(ExecFailure::TimedOut) => {
                Err(self.failed(target, ExecFailure::TimedOut, self.cfg.command_timeout).await)
            }
            Err(_) if !fresh => {
                tracing::debug!(server = %target.server, "pooled connection or shell was dead; reconnecting once");
                let (conn, _, shell) = self.checkout_with_shell(target, true).await?;
                match self.shell_on(&conn, &shell, script).await {
                    Ok(out) => Ok(out),
                    Err(e) => Err(self.failed(target, e, self.cfg.command_timeout).await),
                }
            }
            Err(e) => Err(self.failed(target, e, self.cfg.command_timeout).await),
        }
    }

    async fn shell_on(
        &self,
        conn: &Connection,
        shell: &AsyncMutex<Option<Shell>>,
        script: &str,
    ) -> Result<String, ExecFailure> {
        let mut guard = shell.lock().await;
        let run = async {
            if guard.is_none() {
                *guard = Some(Shell::open(conn).await?);
            }
            guard.as_mut().expect("opened above").run(script, self.cfg.exec_limits.max_output).await
        };
        let result = match timeout(self.cfg.command_timeout, run).await {
            Ok(r) => r,
            Err(_) => Err(ExecFailure::TimedOut),
        };
        if result.is_err() {
            // Its state is unknown: the next probe opens a new one.
            guard.take();
        }
        result
    }

    /// Opens a new connection (not the pooled one) and runs `true`: proof
    /// that a fresh login works, e.g. after sshd's configuration changed.
    pub async fn prove_fresh_login(&self, target: &Target) -> Result<(), SshError> {
        let route = self.route(target).await?;
        let conn = Arc::new(client::connect(target, &self.cfg, &route).await?);
        let channel = conn.channel_open_session().await.map_err(|e| client::map_transport_error(e, target))?;
        let out =
            exec::exec((&conn, channel), "true", None, self.cfg.exec_limits, &mut |_| {}, None, &self.stops).await;
        match out {
            Ok(o) if o.success() => Ok(()),
            Ok(o) => Err(SshError::RemoteFailed {
                server: target.server.clone(),
                what: "a fresh login".into(),
                status: format!("{:?}", o.exit_status),
                stderr: o.stderr,
            }),
            Err(ExecFailure::Broken(detail)) => Err(SshError::Disconnected { server: target.server.clone(), detail }),
            Err(ExecFailure::Sink(e)) => {
                Err(SshError::LocalWrite { server: target.server.clone(), detail: e.to_string() })
            }
            Err(ExecFailure::ChannelOpen(e)) => Err(client::map_transport_error(e, target)),
            Err(ExecFailure::TimedOut) => {
                Err(SshError::CommandTimeout { server: target.server.clone(), timeout: self.cfg.command_timeout })
            }
        }
    }

    async fn failed(&self, target: &Target, e: ExecFailure, limit: std::time::Duration) -> SshError {
        self.evict(target.server_id).await;
        match e {
            ExecFailure::TimedOut => SshError::CommandTimeout { server: target.server.clone(), timeout: limit },
            ExecFailure::ChannelOpen(err) => client::map_transport_error(err, target),
            ExecFailure::Broken(detail) => SshError::Disconnected { server: target.server.clone(), detail },
            ExecFailure::Sink(e) => SshError::LocalWrite { server: target.server.clone(), detail: e.to_string() },
        }
    }
}
