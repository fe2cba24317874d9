//! Retention: which of a site's backups restic's rules keep (keep-last,
//! daily, weekly, monthly), shown as a plan; applied, the server forgets
//! the others (files and database together, backup.sh's `retain`, which
//! the server's own schedule runs too) and prunes. The newest
//! restore-tested backup is never removed, whatever the rules say.

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
    pub(super) fn options(&self) -> Result<String> {
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
    /// what it removes is forgotten on the server and the repository pruned.
    pub async fn forget(&self, domain: &str, rules: &Retention, dry_run: bool, ctl: &Control) -> Result<RetentionPlan> {
        let keep = rules.options()?;
        let site = self.site_record(domain)?;
        let server = self.server_record(site.server.as_str())?;
        let password = self.repo_password(&server, false)?;
        let tested = self.db.newest_restore_tested(site.id)?;
        let protect = self.protected_snapshot(tested)?;
        let scope = Scope::Site(site.domain.to_string());
        let kind = if dry_run { "backup.plan" } else { "backup.forget" };
        let job = self.start_web_job(kind, site.domain.as_str(), &server, scope, ctl)?;
        let vars = [("KEEP", keep.as_str()), ("PROTECT", &protect), ("DRY_RUN", if dry_run { "1" } else { "0" })];
        let script = backup_script("retain", Some(&site), &vars)?;
        let mut transcript = Transcript::default();
        let input = Some(secret_input(&password));
        let (report, result) = self.run_script(&server, &script, input, &job, &mut transcript, &mut |_| {}).await;
        let removed: Vec<&str> = report.value("removed").unwrap_or("").split_whitespace().collect();
        let result = result.and_then(|()| plan_of(report.value("plan").unwrap_or(""), &removed, tested));
        let mut plan = match result {
            Ok((keep, remove)) => Ok(RetentionPlan {
                domain: site.domain.to_string(),
                keep,
                remove,
                protected: tested,
                applied: !dry_run,
            }),
            Err(e) => Err(e),
        };
        if let Ok(p) = &mut plan {
            // A scheduled backup's tag is no row id: its row is found by snapshot.
            let rows = self.list(Some(site.domain.as_str()), u32::MAX)?;
            let row_of = |snapshot: &str| {
                rows.iter().find(|b| b.files_snapshot.as_deref().is_some_and(|f| snapshot.starts_with(f))).map(|b| b.id)
            };
            for s in p.keep.iter_mut().chain(p.remove.iter_mut()) {
                s.backup = row_of(&s.snapshot).or(s.backup);
            }
            if !dry_run {
                let gone: Vec<BackupId> = removed.iter().filter_map(|r| row_of(r)).collect();
                self.db.forget_backups(site.id, &gone)?;
            }
        }
        self.end_web_job(&job, &transcript, plan.as_ref().err()).await?;
        let detail = match &plan {
            Ok(p) if dry_run => format!("plan: {} kept, {} would go", p.keep.len(), p.remove.len()),
            Ok(p) => format!("{} kept, {} forgotten and pruned", p.keep.len(), p.remove.len()),
            Err(e) => e.to_string(),
        };
        self.audit(kind, Some(server.name.as_str()), Some(site.domain.as_str()), plan.is_ok(), &detail);
        plan
    }
}

/// restic's `forget --dry-run --json` of the site's files snapshots, as
/// kept (with restic's reasons) and removed, where removed is what the
/// server removes (`removed`: ids of files and database snapshots): a
/// snapshot restic would drop that the server keeps is the protected one.
fn plan_of(
    json: &str,
    removed: &[&str],
    tested: Option<BackupId>,
) -> Result<(Vec<PlannedSnapshot>, Vec<PlannedSnapshot>)> {
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
        let listed = g["keep"].as_array().into_iter().flatten().chain(g["remove"].as_array().into_iter().flatten());
        for s in listed {
            let mut p = snapshot(s).ok_or_else(|| bad("a snapshot without an id"))?;
            p.reasons = why(&p.snapshot);
            if removed.contains(&p.snapshot.as_str()) {
                remove.push(p);
            } else {
                if p.reasons.is_empty() {
                    p.reasons.push(if p.backup.is_some() && p.backup == tested {
                        "newest restore-tested".into()
                    } else {
                        "not CHOM's".into()
                    });
                }
                keep.push(p);
            }
        }
    }
    Ok((keep, remove))
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

#[cfg(test)]
mod tests {
    use super::*;

    const PLAN: &str = r#"[{"tags":null,"host":"web","paths":null,
      "keep":[{"time":"2026-12-03T10:00:00Z","tags":["chom","backup:3"],"id":"cc"}],
      "remove":[{"time":"2026-12-02T10:00:00Z","tags":["backup:2"],"id":"bb"},{"time":"2026-12-01T10:00:00Z","tags":["backup:1"],"id":"aa"}],
      "reasons":[{"snapshot":{"id":"cc"},"matches":["last snapshot"]}]}]"#;

    #[test]
    fn the_plan_shows_what_the_server_removes_and_why_the_rest_stays() {
        let (keep, remove) = plan_of(PLAN, &["aa", "dd"], Some(BackupId(2))).unwrap();
        assert_eq!(keep.iter().map(|s| s.snapshot.as_str()).collect::<Vec<_>>(), ["cc", "bb"]);
        assert_eq!(keep[0].reasons, ["last snapshot"]);
        assert_eq!(keep[1].reasons, ["newest restore-tested"]);
        assert_eq!(
            remove.iter().map(|s| (s.snapshot.as_str(), s.backup)).collect::<Vec<_>>(),
            [("aa", Some(BackupId(1)))]
        );
        assert!(plan_of("not json", &[], None).is_err());
        assert!(Retention::default().options().is_err());
        assert!(Retention { keep_last: Some(0), keep_daily: Some(7), ..Default::default() }.options().is_err());
        let rules = Retention { keep_last: Some(3), keep_daily: Some(7), ..Default::default() };
        assert_eq!(rules.options().unwrap(), "--keep-last 3 --keep-daily 7");
    }
}
