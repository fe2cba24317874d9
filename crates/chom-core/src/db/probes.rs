//! The `probes` table: every probe result, kept as history for the charts.

use crate::ids::{JobId, ServerId};
use std::collections::BTreeMap;

use chrono::{DateTime, Utc};
use rusqlite::{params, Row};
use serde::{Deserialize, Serialize};

use super::{from_ms, to_ms, Db, DbResult};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
#[serde(rename_all = "snake_case")]
pub enum ServiceState {
    Up,
    Down,
    /// Not installed on the server.
    Absent,
}

impl ServiceState {
    pub fn as_str(self) -> &'static str {
        match self {
            ServiceState::Up => "up",
            ServiceState::Down => "down",
            ServiceState::Absent => "absent",
        }
    }
}

/// What one probe learned about a server.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
pub struct ProbeFacts {
    pub hostname: String,
    pub os: String,
    pub kernel: String,
    #[cfg_attr(feature = "specta", specta(type = u32))]
    pub uptime_s: u64,
    pub load: [f64; 3],
    pub cpus: u32,
    #[cfg_attr(feature = "specta", specta(type = u32))]
    pub mem_total: u64,
    #[cfg_attr(feature = "specta", specta(type = u32))]
    pub mem_available: u64,
    #[cfg_attr(feature = "specta", specta(type = u32))]
    pub swap_total: u64,
    #[cfg_attr(feature = "specta", specta(type = u32))]
    pub swap_free: u64,
    #[cfg_attr(feature = "specta", specta(type = u32))]
    pub disk_total: u64,
    #[cfg_attr(feature = "specta", specta(type = u32))]
    pub disk_free: u64,
    /// nginx, php-fpm, mariadb -> state.
    pub services: BTreeMap<String, ServiceState>,
}

#[derive(Debug, Clone, Serialize)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
pub struct ProbeRecord {
    pub server: String,
    pub at: DateTime<Utc>,
    pub ok: bool,
    pub error_code: Option<String>,
    pub error: Option<String>,
    #[cfg_attr(feature = "specta", specta(type = u32))]
    pub duration_ms: u64,
    pub facts: Option<ProbeFacts>,
}

/// A probe's own columns, in the order `probe_at` reads them.
pub(super) const PROBE_COLUMNS: &str = "at, ok, error_code, error, duration_ms, hostname, os, kernel, uptime_s, \
     load1, load5, load15, cpus, mem_total, mem_available, swap_total, swap_free, disk_total, disk_free, services";

fn row_to_probe(r: &Row<'_>) -> rusqlite::Result<ProbeRecord> {
    let server: String = r.get(0)?;
    probe_at(r, 1, &server)?.ok_or(rusqlite::Error::InvalidQuery)
}

/// The probe whose `PROBE_COLUMNS` start at column `o` (`None` where a
/// LEFT JOIN found none).
pub(super) fn probe_at(r: &Row<'_>, o: usize, server: &str) -> rusqlite::Result<Option<ProbeRecord>> {
    let Some(at) = r.get::<_, Option<i64>>(o)? else { return Ok(None) };
    let ok: bool = r.get(o + 1)?;
    let facts = if ok {
        let services = r.get_ref(o + 19)?.as_str_or_null().ok().flatten();
        Some(ProbeFacts {
            hostname: r.get(o + 5)?,
            os: r.get(o + 6)?,
            kernel: r.get(o + 7)?,
            uptime_s: r.get::<_, i64>(o + 8)? as u64,
            load: [r.get(o + 9)?, r.get(o + 10)?, r.get(o + 11)?],
            cpus: r.get(o + 12)?,
            mem_total: r.get::<_, i64>(o + 13)? as u64,
            mem_available: r.get::<_, i64>(o + 14)? as u64,
            swap_total: r.get::<_, i64>(o + 15)? as u64,
            swap_free: r.get::<_, i64>(o + 16)? as u64,
            disk_total: r.get::<_, i64>(o + 17)? as u64,
            disk_free: r.get::<_, i64>(o + 18)? as u64,
            services: services.and_then(|s| serde_json::from_str(s).ok()).unwrap_or_default(),
        })
    } else {
        None
    };
    Ok(Some(ProbeRecord {
        server: server.to_owned(),
        at: from_ms(at),
        ok,
        error_code: r.get(o + 2)?,
        error: r.get(o + 3)?,
        duration_ms: r.get::<_, i64>(o + 4)? as u64,
        facts,
    }))
}

/// One probe outcome to store.
pub struct NewProbe<'a> {
    pub server_id: ServerId,
    pub job_id: Option<JobId>,
    pub at: DateTime<Utc>,
    pub duration_ms: u64,
    pub outcome: Result<&'a ProbeFacts, (&'a str, &'a str)>,
}

impl Db {
    /// Stores a batch of probe results and updates each server's status and
    /// last-seen time, in one transaction.
    pub fn insert_probes(&self, batch: &[NewProbe<'_>]) -> DbResult<()> {
        self.blocking(|| {
            let mut conn = self.conn();
            let tx = super::write_tx(&mut conn)?;
            {
                let mut ins = tx.prepare_cached(
                    "INSERT INTO probes (server_id, job_id, at, ok, error_code, error, duration_ms, hostname, os, kernel, \
                     uptime_s, load1, load5, load15, cpus, mem_total, mem_available, swap_total, swap_free, disk_total, \
                     disk_free, services) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15, ?16, \
                     ?17, ?18, ?19, ?20, ?21, ?22)",
                )?;
                let mut status = tx.prepare_cached(
                    "UPDATE servers SET status = ?2, last_seen = CASE WHEN ?3 THEN ?4 ELSE last_seen END WHERE id = ?1",
                )?;
                for p in batch {
                    let at = to_ms(p.at);
                    match p.outcome {
                        Ok(f) => {
                            let services = serde_json::to_string(&f.services).unwrap_or_default();
                            ins.execute(params![
                                p.server_id,
                                p.job_id,
                                at,
                                true,
                                None::<String>,
                                None::<String>,
                                p.duration_ms as i64,
                                f.hostname,
                                f.os,
                                f.kernel,
                                f.uptime_s as i64,
                                f.load[0],
                                f.load[1],
                                f.load[2],
                                f.cpus,
                                f.mem_total as i64,
                                f.mem_available as i64,
                                f.swap_total as i64,
                                f.swap_free as i64,
                                f.disk_total as i64,
                                f.disk_free as i64,
                                services
                            ])?;
                            status.execute(params![p.server_id, "up", true, at])?;
                        }
                        Err((code, message)) => {
                            ins.execute(params![
                                p.server_id,
                                p.job_id,
                                at,
                                false,
                                code,
                                message,
                                p.duration_ms as i64,
                                None::<String>,
                                None::<String>,
                                None::<String>,
                                None::<i64>,
                                None::<f64>,
                                None::<f64>,
                                None::<f64>,
                                None::<i64>,
                                None::<i64>,
                                None::<i64>,
                                None::<i64>,
                                None::<i64>,
                                None::<i64>,
                                None::<i64>,
                                None::<String>
                            ])?;
                            // An untrusted key says nothing about the host being up or down.
                            let st = match code {
                                "host_key_changed" => "host_key_changed",
                                "host_key_unknown" => "unknown",
                                _ => "down",
                            };
                            status.execute(params![p.server_id, st, false, at])?;
                        }
                    }
                }
            }
            tx.commit()?;
            Ok(())
        })
    }

    /// The newest probe of every server that has one (kept by the trigger
    /// of migration 19: one lookup by id per server, however long the
    /// history; CROSS JOIN keeps SQLite from scanning the probes instead).
    pub fn latest_probes(&self) -> DbResult<Vec<ProbeRecord>> {
        let conn = self.conn();
        let mut stmt = conn.prepare_cached(&format!(
            "SELECT s.name, {} FROM servers s CROSS JOIN probes p ON p.id = s.latest_probe_id",
            columns_of("p")
        ))?;
        let rows = stmt.query_map([], row_to_probe)?.collect::<Result<_, _>>()?;
        Ok(rows)
    }

    /// A server's probe history, oldest first, from `since` on.
    pub fn probe_history(&self, server_id: ServerId, since: DateTime<Utc>) -> DbResult<Vec<ProbeRecord>> {
        let conn = self.conn();
        let mut stmt = conn.prepare_cached(&format!(
            "SELECT s.name, {} FROM probes p JOIN servers s ON s.id = p.server_id \
             WHERE p.server_id = ?1 AND p.at >= ?2 ORDER BY p.at",
            columns_of("p")
        ))?;
        let rows = stmt.query_map(params![server_id, to_ms(since)], row_to_probe)?.collect::<Result<_, _>>()?;
        Ok(rows)
    }
}

/// `used` of `total` in percent, to one decimal; `None` for a total of 0.
pub(crate) fn used_pct(used: u64, total: u64) -> Option<f64> {
    (total > 0).then(|| (used as f64 / total as f64 * 1000.0).round() / 10.0)
}

/// `PROBE_COLUMNS` of the probes table named `alias` in a query.
pub(super) fn columns_of(alias: &str) -> String {
    PROBE_COLUMNS.split(", ").map(|c| format!("{alias}.{}", c.trim())).collect::<Vec<_>>().join(", ")
}
