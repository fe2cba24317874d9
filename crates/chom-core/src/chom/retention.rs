//! Retention: which of a site's backups restic's rules keep (keep-last,
//! daily, weekly, monthly), shown as a plan; applied, CHOM forgets the
//! others by snapshot id (files and database together) and prunes. The
//! newest restore-tested backup is never removed, whatever the rules say.

use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::error::{Error, Result};
use crate::ids::BackupId;
use crate::jobs::{Control, Scope};

use super::backup::{backup_script, secret_input};
use super::remote::Transcript;
use super::Backups;

/// How many backups of a site to keep, by restic's rules (at least one set).
#[derive(Debug, Clone, Copy, Default, Serialize, Deserialize)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
pub struct Retention {
    pub keep_last: Option<u32>,
    pub keep_daily: Option<u32>,
    pub keep_weekly: Option<u32>,
    pub keep_monthly: Option<u32>,
}

impl Retention {
    /// restic's options, e.g. `--keep-last 3 --keep-daily 7`.
    fn options(&self) -> Result<String> {
        let rules = [
            ("last", self.keep_last),
            ("daily", self.keep_daily),
            ("weekly", self.keep_weekly),
            ("monthly", self.keep_monthly),
        ];
        let set: Vec<String> = rules.iter().filter_map(|(name, n)| n.map(|n| format!("--keep-{name} {n}"))).collect();
        if set.is_empty() || rules.iter().any(|(_, n)| *n == Some(0)) {
            return Err(Error::Usage(
                "say what to keep: at least one of keep-last, keep-daily, keep-weekly, keep-monthly, each 1 or more"
                    .into(),
            ));
        }
        Ok(set.join(" "))
    }
}

/// One files snapshot of the site, as the plan sees it.
#[derive(Debug, Clone, Serialize)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
pub struct PlannedSnapshot {
    pub snapshot: String,
    /// The CHOM backup it belongs to (from its `backup:ID` tag).
    pub backup: Option<BackupId>,
    pub time: String,
    /// Why restic keeps it ("last snapshot", "daily snapshot", ...).
    pub reasons: Vec<String>,
}

#[derive(Debug, Clone, Serialize)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
pub struct RetentionPlan {
    pub domain: String,
    pub keep: Vec<PlannedSnapshot>,
    pub remove: Vec<PlannedSnapshot>,
    /// The newest restore-tested backup, kept whatever the rules say.
    pub protected: Option<BackupId>,
    /// Whether the removals were made (false: a dry run).
    pub applied: bool,
}

impl Backups<'_> {
    /// The plan for `domain`'s backups under `rules`; unless `dry_run`,
    /// the snapshots it removes are forgotten and the repository pruned.
    pub async fn forget(&self, domain: &str, rules: &Retention, dry_run: bool, ctl: &Control) -> Result<RetentionPlan> {
        let keep = rules.options()?;
        let site = self.site_record(domain)?;
        let server = self.server_record(site.server.as_str())?;
        let password = self.repo_password(&server, false)?;
        let scope = Scope::Site(site.domain.to_string());
        let kind = if dry_run { "backup.plan" } else { "backup.forget" };
        let job = self.start_web_job(kind, site.domain.as_str(), &server, scope, ctl)?;
        let mut transcript = Transcript::default();
        let script = backup_script("plan", Some(&site), &[("KEEP", &keep)])?;
        let input = Some(secret_input(&password));
        let (report, mut result) = self.run_script(&server, &script, input, &job, &mut transcript, &mut |_| {}).await;
        let tested = self.db.newest_restore_tested(site.id)?;
        let mut plan = RetentionPlan {
            domain: site.domain.to_string(),
            keep: vec![],
            remove: vec![],
            protected: None,
            applied: false,
        };
        let mut forget: Vec<String> = vec![];
        if result.is_ok() {
            match plan_of(report.value("plan").unwrap_or(""), tested) {
                Ok((keep, remove, protected)) => {
                    let databases = database_snapshots(report.value("databases").unwrap_or(""));
                    forget = remove.iter().map(|s| s.snapshot.clone()).collect();
                    forget.extend(
                        databases
                            .into_iter()
                            .filter(|(_, b)| remove.iter().any(|s| s.backup == Some(*b)))
                            .map(|(s, _)| s),
                    );
                    plan = RetentionPlan { keep, remove, protected, ..plan };
                }
                Err(e) => result = Err(e),
            }
        }
        if result.is_ok() && !dry_run && !forget.is_empty() {
            let script = backup_script("forget", Some(&site), &[("FORGET", &forget.join(" "))])?;
            let input = Some(secret_input(&password));
            let (_, r) = self.run_script(&server, &script, input, &job, &mut transcript, &mut |_| {}).await;
            result = r;
            if result.is_ok() {
                let gone: Vec<BackupId> = plan.remove.iter().filter_map(|s| s.backup).collect();
                self.db.forget_backups(site.id, &gone)?;
                plan.applied = true;
            }
        }
        self.end_web_job(&job, &transcript, result.as_ref().err()).await?;
        let detail = match &result {
            Ok(()) if dry_run => format!("plan: {} kept, {} would go", plan.keep.len(), plan.remove.len()),
            Ok(()) => format!("{} kept, {} forgotten and pruned", plan.keep.len(), plan.remove.len()),
            Err(e) => e.to_string(),
        };
        self.audit(kind, Some(server.name.as_str()), Some(site.domain.as_str()), result.is_ok(), &detail);
        result?;
        Ok(plan)
    }
}

type Plan = (Vec<PlannedSnapshot>, Vec<PlannedSnapshot>, Option<BackupId>);

/// restic's `forget --dry-run --json` (one group) as kept and removed
/// snapshots, with the newest restore-tested backup moved to the kept.
fn plan_of(json: &str, tested: Option<BackupId>) -> Result<Plan> {
    let bad = |what: &str| Error::Internal(format!("restic's retention plan: {what}"));
    let groups: Vec<Value> = serde_json::from_str(json).map_err(|e| bad(&e.to_string()))?;
    let (mut keep, mut remove) = (vec![], vec![]);
    for g in &groups {
        let reasons = g["reasons"].as_array().cloned().unwrap_or_default();
        let why = |id: &str| -> Vec<String> {
            reasons
                .iter()
                .filter(|r| r["snapshot"]["id"].as_str() == Some(id))
                .flat_map(|r| r["matches"].as_array().cloned().unwrap_or_default())
                .filter_map(|m| m.as_str().map(str::to_owned))
                .collect()
        };
        for s in g["keep"].as_array().into_iter().flatten() {
            let mut p = snapshot(s).ok_or_else(|| bad("a kept snapshot without an id"))?;
            p.reasons = why(&p.snapshot);
            keep.push(p);
        }
        for s in g["remove"].as_array().into_iter().flatten() {
            remove.push(snapshot(s).ok_or_else(|| bad("a removed snapshot without an id"))?);
        }
    }
    let protected = tested.filter(|t| remove.iter().any(|s| s.backup == Some(*t)));
    if let Some(t) = protected {
        let (kept, rest): (Vec<_>, Vec<_>) = remove.into_iter().partition(|s| s.backup == Some(t));
        remove = rest;
        keep.extend(kept.into_iter().map(|mut s| {
            s.reasons.push("newest restore-tested".into());
            s
        }));
    }
    Ok((keep, remove, tested))
}

/// A snapshot object of restic's JSON.
fn snapshot(s: &Value) -> Option<PlannedSnapshot> {
    let id = s["id"].as_str().filter(|i| !i.is_empty() && i.bytes().all(|b| b.is_ascii_hexdigit()))?;
    Some(PlannedSnapshot {
        snapshot: id.to_owned(),
        backup: backup_tag(s),
        time: s["time"].as_str().unwrap_or("").to_owned(),
        reasons: vec![],
    })
}

fn backup_tag(s: &Value) -> Option<BackupId> {
    s["tags"].as_array()?.iter().filter_map(Value::as_str).find_map(|t| t.strip_prefix("backup:")?.parse().ok())
}

/// The site's database snapshots and their backups, from `restic snapshots --json`.
fn database_snapshots(json: &str) -> Vec<(String, BackupId)> {
    let all: Vec<Value> = serde_json::from_str(json).unwrap_or_default();
    all.iter().filter_map(|s| Some((snapshot(s)?.snapshot, backup_tag(s)?))).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    const PLAN: &str = r#"[{"tags":null,"host":"web","paths":null,
      "keep":[{"time":"2026-12-03T10:00:00Z","tags":["chom","backup:3"],"id":"cc"}],
      "remove":[{"time":"2026-12-02T10:00:00Z","tags":["backup:2"],"id":"bb"},{"time":"2026-12-01T10:00:00Z","tags":["backup:1"],"id":"aa"}],
      "reasons":[{"snapshot":{"id":"cc"},"matches":["last snapshot"]}]}]"#;

    #[test]
    fn the_newest_restore_tested_backup_stays_whatever_the_rules_say() {
        let (keep, remove, protected) = plan_of(PLAN, Some(BackupId(2))).unwrap();
        assert_eq!(keep.iter().map(|s| s.snapshot.as_str()).collect::<Vec<_>>(), ["cc", "bb"]);
        assert_eq!(keep[0].reasons, ["last snapshot"]);
        assert_eq!(keep[1].reasons, ["newest restore-tested"]);
        assert_eq!(remove.iter().map(|s| s.snapshot.as_str()).collect::<Vec<_>>(), ["aa"]);
        assert_eq!(protected, Some(BackupId(2)));
        let (_, remove, _) = plan_of(PLAN, None).unwrap();
        assert_eq!(remove.len(), 2);
        assert!(plan_of("not json", None).is_err());
        assert!(Retention::default().options().is_err());
        assert!(Retention { keep_last: Some(0), keep_daily: Some(7), ..Default::default() }.options().is_err());
        let rules = Retention { keep_last: Some(3), keep_daily: Some(7), ..Default::default() };
        assert_eq!(rules.options().unwrap(), "--keep-last 3 --keep-daily 7");
    }
}
