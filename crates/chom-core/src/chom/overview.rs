//! Every site's backups at a glance, from the cache (offline): its newest
//! good and newest restore-tested backup, its schedule, and whether it is
//! covered: a site with no good backup younger than its policy (a day and
//! its grace when scheduled, a week otherwise) is not.

use chrono::{DateTime, Duration, Utc};
use serde::Serialize;

use crate::db::BackupRecord;
use crate::error::Result;
use crate::ids::BackupId;

use super::schedule::ScheduleView;
use super::Backups;

/// How long a good backup covers a site: a scheduled site's runs are a
/// day apart (plus the schedule's grace); an unscheduled one is expected
/// to be backed up by hand at least weekly.
const SCHEDULED_HOURS: i64 = 26;
const UNSCHEDULED_DAYS: i64 = 7;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
#[serde(rename_all = "snake_case")]
pub enum Coverage {
    /// A good backup younger than the policy.
    Covered,
    /// Good backups, but the newest is older than the policy.
    Stale,
    /// No backup was ever checked good.
    NoGoodBackup,
}

#[derive(Debug, Clone, Serialize)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
pub struct SiteBackups {
    pub domain: String,
    pub server: String,
    pub coverage: Coverage,
    /// The policy's age limit, in hours.
    pub policy_hours: u32,
    pub last_good: Option<BackupBrief>,
    pub last_restore_tested: Option<BackupBrief>,
    /// The newest backup of any state (a failed one shows here first).
    pub last: Option<BackupBrief>,
    pub schedule: Option<ScheduleView>,
}

/// A backup in a line.
#[derive(Debug, Clone, Serialize)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
pub struct BackupBrief {
    pub id: BackupId,
    pub started_at: DateTime<Utc>,
    pub state: crate::db::BackupState,
    pub good: bool,
    #[cfg_attr(feature = "specta", specta(type = u32))]
    pub bytes: u64,
}

impl From<&BackupRecord> for BackupBrief {
    fn from(b: &BackupRecord) -> BackupBrief {
        BackupBrief { id: b.id, started_at: b.started_at, state: b.state, good: b.good, bytes: b.bytes + b.db_bytes }
    }
}

impl Backups<'_> {
    /// Every site (or one server's), from the cache.
    pub fn overview(&self, server: Option<&str>) -> Result<Vec<SiteBackups>> {
        let now = Utc::now();
        let sites = self.db.list_sites(server)?;
        let backups = self.db.backups(None, u32::MAX)?;
        let schedules = self.schedules(server)?;
        Ok(sites
            .iter()
            .map(|site| {
                // Newest first, as listed.
                let mine: Vec<&BackupRecord> = backups.iter().filter(|b| b.domain == site.domain.as_str()).collect();
                let schedule = schedules.iter().find(|s| s.domain == site.domain.as_str()).cloned();
                let policy = if schedule.is_some() {
                    Duration::hours(SCHEDULED_HOURS)
                } else {
                    Duration::days(UNSCHEDULED_DAYS)
                };
                let last_good = mine.iter().find(|b| b.good).copied();
                let coverage = match last_good {
                    None => Coverage::NoGoodBackup,
                    Some(b) if now - b.started_at > policy => Coverage::Stale,
                    Some(_) => Coverage::Covered,
                };
                SiteBackups {
                    domain: site.domain.to_string(),
                    server: site.server.to_string(),
                    coverage,
                    policy_hours: u32::try_from(policy.num_hours()).unwrap_or(u32::MAX),
                    last_good: last_good.map(BackupBrief::from),
                    last_restore_tested: mine
                        .iter()
                        .find(|b| b.good && b.drilled_at.is_some())
                        .map(|b| BackupBrief::from(*b)),
                    last: mine.first().map(|b| BackupBrief::from(*b)),
                    schedule,
                }
            })
            .collect())
    }
}
