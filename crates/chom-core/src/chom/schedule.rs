//! Backups on the server's own schedule: cron runs backup.sh there every
//! day at a set time (and the retention set with it), whether or not a
//! desktop is on; each run leaves one JSON status line that the next probe
//! reads into the cache. A schedule that did not run on time, or whose
//! server has no cron running, is reported as missed.

use std::io::Cursor;

use chrono::{DateTime, Duration, Utc};
use serde::{Deserialize, Serialize};
use serde_json::Value;
use zeroize::Zeroizing;

use crate::db::{BackupMade, Drill, ScheduleRecord, ScheduledRun, ServerRecord};
use crate::error::{Error, Result};
use crate::fleet::probe::BackupStatus;
use crate::ids::BackupId;
use crate::jobs::{Control, Scope};
use crate::ssh::Input;
use crate::validate::ValidationError;
use crate::web::vhost::backup_runner;

use super::backup::backup_script;
use super::remote::Transcript;
use super::retention::Retention;
use super::sites::layout_of;
use super::{Backups, Ctx};

/// A daily run's grace: a run this much later than a day after the last
/// one (or the install) is missed.
const GRACE_HOURS: i64 = 25;

#[derive(Debug, Clone, Deserialize)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
pub struct ScheduleInput {
    /// "HH:MM", every day, in the server's own time.
    pub at: String,
    /// Retention the server applies after each run (none: keep everything).
    pub retention: Option<Retention>,
    /// When a run also drills the backup it made: "daily", "off", or a
    /// weekday ("mon" ... "sun"). None: weekly, on a day set by the site,
    /// so a server's sites take turns through the week.
    pub drill: Option<String>,
}

/// A site's schedule as the cache knows it (offline).
#[derive(Debug, Clone, Serialize)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
pub struct ScheduleView {
    pub domain: String,
    pub server: String,
    pub at: String,
    pub retention: Option<Retention>,
    pub installed_at: DateTime<Utc>,
    /// The last run a probe read, whether it passed, and why not.
    pub last_run_at: Option<DateTime<Utc>>,
    pub last_ok: Option<bool>,
    pub last_error: String,
    /// Whether cron ran on the server at the last probe (`None`: not
    /// probed since the schedule was set).
    pub cron_running: Option<bool>,
    pub seen_at: Option<DateTime<Utc>>,
    /// Why the schedule is not keeping up, when it is not.
    pub missed: Option<String>,
    /// When a run also drills its backup, in words ("weekly on Wednesday",
    /// "daily", "never"), and as `ScheduleInput::drill` takes it.
    pub drill: String,
    pub drill_input: String,
}

impl ScheduleView {
    fn of(r: ScheduleRecord, now: DateTime<Utc>) -> ScheduleView {
        let missed = missed(&r, now);
        ScheduleView {
            retention: r.retention.as_deref().and_then(|j| serde_json::from_str(j).ok()),
            domain: r.domain,
            server: r.server,
            at: r.at,
            installed_at: r.installed_at,
            last_run_at: r.last_run_at,
            last_ok: r.last_ok,
            last_error: r.last_error,
            cron_running: r.cron_running,
            seen_at: r.seen_at,
            missed,
            drill: drill_words(&r.drill_days),
            drill_input: drill_input(&r.drill_days),
        }
    }
}

fn missed(r: &ScheduleRecord, now: DateTime<Utc>) -> Option<String> {
    match (r.seen_at, r.cron_running) {
        (Some(_), Some(false)) => return Some(format!("cron is not running on {}: the schedule cannot run", r.server)),
        (Some(_), None) => return Some(format!("cron is not installed on {}: the schedule cannot run", r.server)),
        _ => {}
    }
    let since = r.last_run_at.unwrap_or(r.installed_at);
    (now - since > Duration::hours(GRACE_HOURS)).then(|| match r.last_run_at {
        Some(t) => format!("no run since {} (due daily at {})", t.format("%F %R UTC"), r.at),
        None => format!("no run since the schedule was set on {} (due daily at {})", since.format("%F %R UTC"), r.at),
    })
}

/// "HH:MM" as (hour, minute).
fn parse_at(at: &str) -> Result<(u32, u32)> {
    let bad = || ValidationError::new("time of day", at, "HH:MM, e.g. 03:30");
    let (h, m) = at.split_once(':').ok_or_else(bad)?;
    let num = |s: &str, max: u32| {
        (s.len() == 2 && s.bytes().all(|b| b.is_ascii_digit()))
            .then(|| s.parse::<u32>().ok())
            .flatten()
            .filter(|n| *n <= max)
    };
    Ok((num(h, 23).ok_or_else(bad)?, num(m, 59).ok_or_else(bad)?))
}

const WEEKDAYS: [&str; 7] = ["mon", "tue", "wed", "thu", "fri", "sat", "sun"];
const WEEKDAY_NAMES: [&str; 7] = ["Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday"];

/// The drill days (ISO weekday digits) of `drill`; none given: one weekday
/// picked by `site` (its id), so sites take turns.
fn drill_days(drill: Option<&str>, site: i64) -> Result<String> {
    let Some(d) = drill else { return Ok((site.rem_euclid(7) + 1).to_string()) };
    match d {
        "daily" => Ok("1234567".into()),
        "off" | "never" => Ok(String::new()),
        day => WEEKDAYS.iter().position(|w| *w == day).map(|i| (i + 1).to_string()).ok_or_else(|| {
            ValidationError::new("drill day", day, "daily, off, or a weekday: mon, tue, wed, thu, fri, sat, sun").into()
        }),
    }
}

fn drill_input(days: &str) -> String {
    match days.len() {
        0 => "off".into(),
        1 => days
            .bytes()
            .next()
            .and_then(|b| WEEKDAYS.get(usize::from(b.wrapping_sub(b'1'))))
            .unwrap_or(&"off")
            .to_string(),
        _ => "daily".into(),
    }
}

fn drill_words(days: &str) -> String {
    match days.len() {
        0 => "never".into(),
        7 => "daily".into(),
        _ => {
            let names: Vec<&str> =
                days.bytes().filter_map(|b| WEEKDAY_NAMES.get(usize::from(b.wrapping_sub(b'1'))).copied()).collect();
            format!("weekly on {}", names.join(", "))
        }
    }
}

impl Backups<'_> {
    /// Installs `domain`'s schedule on its server (or, with `None`,
    /// removes it) and records it.
    pub async fn schedule(
        &self,
        domain: &str,
        input: Option<&ScheduleInput>,
        ctl: &Control,
    ) -> Result<Option<ScheduleView>> {
        let parsed = input.map(|i| parse_at(&i.at)).transpose()?;
        let keep = match input.and_then(|i| i.retention.as_ref()) {
            Some(r) => r.options()?,
            None => String::new(),
        };
        let site = self.site_record(domain)?;
        let drill = drill_days(input.and_then(|i| i.drill.as_deref()), site.id.0)?;
        let server = self.server_record(site.server.as_str())?;
        let password = self.repo_password(&server, true)?;
        let job = self.start_web_job(
            "backup.schedule",
            site.domain.as_str(),
            &server,
            Scope::Site(site.domain.to_string()),
            ctl,
        )?;
        let protect = self.protected_snapshot(self.db.newest_restore_tested(site.id)?)?;
        let (script, stdin) = match parsed {
            Some((hour, minute)) => {
                let run = backup_script("scheduled", Some(&site), &[("KEEP", &keep), ("DRILL_DAYS", &drill)])?;
                let (text, token) = run.standalone();
                let runner = backup_runner(&layout_of(&site), token);
                let (h, m) = (hour.to_string(), format!("{minute:02}"));
                let vars = [("CRON_HOUR", h.as_str()), ("CRON_MINUTE", &m), ("RUNNER", &runner), ("PROTECT", &protect)];
                (backup_script("schedule", Some(&site), &vars)?, format!("{}\n{text}", password.expose()))
            }
            None => (backup_script("schedule", Some(&site), &[])?, format!("{}\n", password.expose())),
        };
        let input_bytes: Input = Box::new(Cursor::new(Zeroizing::new(stdin.into_bytes())));
        let mut transcript = Transcript::default();
        let (_, result) =
            self.run_script(&server, &script, Some(input_bytes), &job, &mut transcript, &mut |_| {}).await;
        if result.is_ok() {
            match input {
                Some(i) => {
                    let retention = i
                        .retention
                        .as_ref()
                        .map(serde_json::to_string)
                        .transpose()
                        .map_err(|e| Error::Internal(e.to_string()))?;
                    self.db.set_schedule(site.id, &i.at, retention.as_deref(), &drill)?
                }
                None => self.db.delete_schedule(site.id)?,
            }
        }
        self.end_web_job(&job, &transcript, result.as_ref().err()).await?;
        let detail = match (&result, input) {
            (Ok(()), Some(i)) => format!(
                "backed up daily at {} (server time){}, drilled {}",
                i.at,
                if keep.is_empty() { String::new() } else { format!(", {keep}") },
                drill_words(&drill)
            ),
            (Ok(()), None) => "schedule removed".to_owned(),
            (Err(e), _) => e.to_string(),
        };
        self.audit("backup.schedule", Some(server.name.as_str()), Some(site.domain.as_str()), result.is_ok(), &detail);
        result?;
        Ok(self.db.schedule(site.id)?.map(|r| ScheduleView::of(r, Utc::now())))
    }

    /// The schedules in the cache (offline), of one server's sites or all.
    pub fn schedules(&self, server: Option<&str>) -> Result<Vec<ScheduleView>> {
        let now = Utc::now();
        Ok(self.db.schedules(server)?.into_iter().map(|r| ScheduleView::of(r, now)).collect())
    }
}

impl Ctx {
    /// The files snapshot of backup `tested` (the newest restore-tested),
    /// which retention never removes; empty when there is none.
    pub(super) fn protected_snapshot(&self, tested: Option<BackupId>) -> Result<String> {
        let Some(id) = tested else { return Ok(String::new()) };
        let backup = self.db.backup(id)?;
        let snapshot = backup.and_then(|b| b.files_snapshot).unwrap_or_default();
        Ok(if snapshot.bytes().all(|b| b.is_ascii_hexdigit()) { snapshot } else { String::new() })
    }

    /// What a probe read of `server`'s schedules: cron's state for each
    /// of its sites' schedules, and each site's last run (only a run of a
    /// site of this very server counts).
    pub(super) fn read_backup_status(&self, server: &ServerRecord, status: &BackupStatus) -> Result<()> {
        let schedules = self.db.schedules(Some(server.name.as_str()))?;
        for s in &schedules {
            let run = status.runs.iter().filter_map(|line| run_of(line, &s.domain)).next();
            if self.db.record_scheduled_run(s.site_id, status.cron, run.as_ref())? {
                tracing::info!(site = %s.domain, "a scheduled backup run was read in");
            }
        }
        Ok(())
    }
}

/// A status line's words as the cache keeps them: one line, capped.
fn text(v: &Value) -> String {
    v.as_str().unwrap_or("").chars().filter(|c| !c.is_control()).take(500).collect()
}

/// One runner's status line, when it is `domain`'s and well formed.
fn run_of(line: &str, domain: &str) -> Option<ScheduledRun> {
    let v: Value = serde_json::from_str(line).ok()?;
    if v["domain"].as_str()? != domain {
        return None;
    }
    let time =
        |k: &str| v[k].as_str().and_then(|t| DateTime::parse_from_rfc3339(t).ok()).map(|t| t.with_timezone(&Utc));
    let hex = |k: &str| {
        v[k].as_str().filter(|s| !s.is_empty() && s.bytes().all(|b| b.is_ascii_hexdigit())).map(str::to_owned)
    };
    let num = |k: &str| v[k].as_u64().unwrap_or(0);
    let ok = v["ok"].as_bool()? && hex("files_snapshot").is_some();
    let drill = match v["drill"].as_str() {
        Some("passed") => Some(Ok(Drill {
            files: u32::try_from(num("drill_files")).unwrap_or(u32::MAX),
            tables: u32::try_from(num("drill_tables")).unwrap_or(u32::MAX),
            rows: num("drill_rows"),
            ms: num("drill_ms"),
        })),
        Some("failed") => Some(Err(text(&v["drill_error"]))),
        _ => None,
    };
    Some(ScheduledRun {
        started_at: time("started")?,
        finished_at: time("finished")?,
        ok,
        error: text(&v["error"]),
        drill,
        made: BackupMade {
            release: v["release"]
                .as_str()
                .filter(|r| crate::validate::ReleaseId::parse(r).is_ok())
                .unwrap_or("")
                .to_owned(),
            files_snapshot: hex("files_snapshot").unwrap_or_default(),
            db_snapshot: hex("db_snapshot"),
            files: num("files"),
            bytes: num("bytes"),
            added_bytes: num("added"),
            db_bytes: num("db_bytes"),
            db_engine: v["engine"].as_str().filter(|e| !e.is_empty()).map(|e| e.chars().take(64).collect()),
        },
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn times_of_day_and_status_lines() {
        assert_eq!(parse_at("03:30").unwrap(), (3, 30));
        assert_eq!(parse_at("23:59").unwrap(), (23, 59));
        for bad in ["24:00", "3:30", "03:60", "03:3", "0330", "03:30;id", "", "-1:00", "03:30\n"] {
            assert!(parse_at(bad).is_err(), "{bad}");
        }
        let line = r#"{"domain":"a.test","started":"2026-12-01T03:30:00Z","finished":"2026-12-01T03:30:09Z","ok":true,"exit":0,"backup":"s1","release":"20261201-010101-1-abcd","files_snapshot":"abcdef12","db_snapshot":"","files":12,"bytes":300,"added":10,"db_bytes":0,"engine":"","removed":"","error":""}"#;
        let run = run_of(line, "a.test").unwrap();
        assert!(run.ok && run.made.files == 12 && run.made.db_snapshot.is_none());
        assert!(run_of(line, "b.test").is_none(), "another site's line");
        let forged = line.replace("abcdef12", "$(id)");
        assert!(!run_of(&forged, "a.test").unwrap().ok, "a run without a snapshot id is no backup");
        assert!(run_of("not json", "a.test").is_none());
        assert!(run.drill.is_none(), "a line of a run that did not drill");
        let drilled = line.replace(
            r#""error":"""#,
            r#""error":"","drill":"passed","drill_files":12,"drill_tables":3,"drill_rows":40,"drill_ms":900,"drill_error":"""#,
        );
        let d = run_of(&drilled, "a.test").unwrap().drill.unwrap().unwrap();
        assert_eq!((d.files, d.tables, d.rows, d.ms), (12, 3, 40, 900));
        let failed = line.replace(r#""error":"""#, r#""error":"","drill":"failed","drill_error":"no\nway""#);
        assert_eq!(run_of(&failed, "a.test").unwrap().drill.unwrap().unwrap_err(), "noway");
    }

    #[test]
    fn drill_days_and_their_words() {
        assert_eq!(drill_days(Some("daily"), 1).unwrap(), "1234567");
        assert_eq!(drill_days(Some("off"), 1).unwrap(), "");
        assert_eq!(drill_days(Some("wed"), 1).unwrap(), "3");
        // Sites take turns: ids 1..=7 get each weekday once.
        let mut days: Vec<String> = (1..=7).map(|id| drill_days(None, id).unwrap()).collect();
        days.sort();
        assert_eq!(days, ["1", "2", "3", "4", "5", "6", "7"]);
        for bad in ["Wed", "wednesday", "8", "1;id", ""] {
            assert!(drill_days(Some(bad), 1).is_err(), "{bad}");
        }
        assert_eq!(drill_words("3"), "weekly on Wednesday");
        assert_eq!(drill_words(""), "never");
        assert_eq!(drill_words("1234567"), "daily");
        for input in ["mon", "sun", "daily", "off"] {
            assert_eq!(drill_input(&drill_days(Some(input), 1).unwrap()), input);
        }
    }
}
