//! What the app and the CLI show: plain, serializable views of the cache.

use std::collections::BTreeMap;

use chrono::{DateTime, Utc};
use serde::Serialize;

use crate::db::used_pct;
use crate::db::{PinnedHostKey, ProbeFacts, ProbeRecord, ServerRecord, ServerStatus, ServiceState, SiteRecord};
use crate::ssh::breaker::BreakerState;

/// A server as listed: inventory fields plus its latest probe, if any.
#[derive(Debug, Clone, Serialize)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
pub struct ServerView {
    pub name: String,
    pub host: String,
    pub port: u16,
    pub user: String,
    pub key: Option<String>,
    pub tags: Vec<String>,
    pub group: Option<String>,
    pub notes: String,
    /// The server this one is reached through (ProxyJump).
    pub jump: Option<String>,
    /// up | down | unknown | host_key_changed
    pub status: String,
    pub last_seen: Option<DateTime<Utc>>,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
    pub probe: Option<ProbeSummary>,
    /// Failed connection attempts in a row (the circuit breaker's count).
    pub connect_failures: u32,
    /// While set and ahead, CHOM does not dial the server (its breaker is open).
    pub paused_until: Option<DateTime<Utc>>,
    /// Its figures are not current: it is down, its host key changed, or its
    /// last probe is older than `STALE_AFTER` (the offline view's banner).
    pub stale: bool,
}

/// A probe older than this no longer describes the server.
pub const STALE_AFTER: chrono::Duration = chrono::Duration::minutes(15);

/// Whether a server's figures are not current: it is down, its host key
/// changed, or its latest probe (at `probed_at`) is older than `STALE_AFTER`.
pub(crate) fn is_stale(status: ServerStatus, probed_at: Option<DateTime<Utc>>) -> bool {
    matches!(status, ServerStatus::Down | ServerStatus::HostKeyChanged)
        || probed_at.is_some_and(|at| Utc::now() - at > STALE_AFTER)
}

/// The latest probe, flattened for tables. When it failed, the figures are
/// those of the last probe that worked (`facts_at`), so the offline
/// inventory still shows what was last known.
#[derive(Debug, Clone, Serialize)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
pub struct ProbeSummary {
    pub at: DateTime<Utc>,
    pub ok: bool,
    pub error: Option<String>,
    pub facts_at: Option<DateTime<Utc>>,
    pub hostname: Option<String>,
    pub os: Option<String>,
    pub load1: Option<f64>,
    pub cpus: Option<u32>,
    pub mem_used_pct: Option<f64>,
    pub disk_used_pct: Option<f64>,
    pub services: BTreeMap<String, ServiceState>,
}

impl ProbeFacts {
    /// Memory in use, in percent to one decimal.
    pub fn mem_used_pct(&self) -> Option<f64> {
        used_pct(self.mem_total.saturating_sub(self.mem_available), self.mem_total)
    }

    /// The root file system's space in use, in percent to one decimal.
    pub fn disk_used_pct(&self) -> Option<f64> {
        used_pct(self.disk_total.saturating_sub(self.disk_free), self.disk_total)
    }
}

impl ProbeSummary {
    fn of(p: &ProbeRecord, last_good: Option<&ProbeRecord>) -> ProbeSummary {
        let good = if p.ok { Some(p) } else { last_good };
        let f = good.and_then(|g| g.facts.as_ref());
        ProbeSummary {
            at: p.at,
            ok: p.ok,
            error: p.error.clone(),
            facts_at: good.map(|g| g.at),
            hostname: f.map(|f| f.hostname.clone()),
            os: f.map(|f| f.os.clone()),
            load1: f.map(|f| f.load[0]),
            cpus: f.map(|f| f.cpus),
            mem_used_pct: f.and_then(ProbeFacts::mem_used_pct),
            disk_used_pct: f.and_then(ProbeFacts::disk_used_pct),
            services: f.map(|f| f.services.clone()).unwrap_or_default(),
        }
    }
}

impl ServerView {
    pub(crate) fn from_record(
        r: ServerRecord,
        probe: Option<ProbeRecord>,
        last_good: Option<ProbeRecord>,
        breaker: BreakerState,
    ) -> ServerView {
        let stale = is_stale(r.status, probe.as_ref().map(|p| p.at));
        ServerView {
            name: r.name.to_string(),
            host: r.host.to_string(),
            port: r.port.get(),
            user: r.user.to_string(),
            key: r.key.map(|k| k.to_string()),
            tags: r.tags.into_iter().map(String::from).collect(),
            group: r.group.map(String::from),
            notes: r.notes,
            jump: r.jump.map(String::from),
            status: r.status.as_str().to_owned(),
            last_seen: r.last_seen,
            created_at: r.created_at,
            updated_at: r.updated_at,
            probe: probe.as_ref().map(|p| ProbeSummary::of(p, last_good.as_ref())),
            connect_failures: breaker.failures,
            paused_until: breaker.open_until.filter(|u| *u > Utc::now()),
            stale,
        }
    }

    /// The web services it runs (installed ones), by name.
    pub fn running_services(&self) -> Vec<&str> {
        let services = self.probe.as_ref().map(|p| &p.services);
        services.into_iter().flatten().filter(|(_, st)| **st != ServiceState::Absent).map(|(k, _)| k.as_str()).collect()
    }
}

/// One server in full: the view, its pinned host key, what its last
/// working probe found, and 30 days of probes.
#[derive(Debug, Clone, Serialize)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
pub struct ServerDetail {
    pub server: ServerView,
    pub host_key: Option<PinnedHostKey>,
    /// Keys pinned beside `host_key` (of other types): any of them is accepted.
    pub more_host_keys: Vec<PinnedHostKey>,
    /// From the newest probe that worked (`server.probe` says whether a
    /// later one failed).
    pub facts: Option<ProbeFacts>,
    /// Oldest first.
    pub history: Vec<ProbePoint>,
    /// The newest jobs that touched this server.
    pub recent_jobs: Vec<crate::db::JobRecord>,
}

/// One probe in a server's history, as the charts draw it.
#[derive(Debug, Clone, Serialize)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
pub struct ProbePoint {
    pub at: DateTime<Utc>,
    pub ok: bool,
    pub error: Option<String>,
    pub hostname: Option<String>,
    pub load1: Option<f64>,
    pub mem_used_pct: Option<f64>,
    pub disk_used_pct: Option<f64>,
}

impl ProbePoint {
    pub(crate) fn of(p: &ProbeRecord) -> ProbePoint {
        let f = p.facts.as_ref();
        ProbePoint {
            at: p.at,
            ok: p.ok,
            error: p.error.clone(),
            hostname: f.map(|f| f.hostname.clone()),
            load1: f.map(|f| f.load[0]),
            mem_used_pct: f.and_then(ProbeFacts::mem_used_pct),
            disk_used_pct: f.and_then(ProbeFacts::disk_used_pct),
        }
    }
}

/// A site as listed: the cached record and its certificate's standing, so
/// both front ends warn at the same threshold.
#[derive(Debug, Clone, Serialize)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
pub struct SiteView {
    #[serde(flatten)]
    pub site: SiteRecord,
    /// Whole days until the certificate expires (negative: expired).
    #[cfg_attr(feature = "specta", specta(type = Option<u32>))]
    pub ssl_days_left: Option<i64>,
    /// Under the warning threshold, or expired.
    pub ssl_expiring: bool,
}

impl SiteView {
    pub fn of(site: SiteRecord) -> SiteView {
        let days = site.ssl_expires_at.map(super::ssl::days_left);
        SiteView { ssl_days_left: days, ssl_expiring: days.is_some_and(super::ssl::is_expiring), site }
    }
}

impl std::ops::Deref for SiteView {
    type Target = SiteRecord;
    fn deref(&self) -> &SiteRecord {
        &self.site
    }
}
