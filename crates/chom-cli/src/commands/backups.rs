//! `chom backup create|list|check|drill|restore|undo|forget|schedule|download|upload`: sites into their
//! server's restic repository, listed from the cache, checked, drilled and
//! restored on the server.

use chom_core::db::BackupRecord;
use chom_core::{
    Chom, Coverage, PathRestoreRequest, RestoreParts, RestoreRequest, RestoreTarget, Result, Retention, RetentionPlan,
    ScheduleInput, ScheduleView, SiteBackups,
};

use super::control;
use crate::args::BackupCommand;
use crate::output::{ago, bytes, json, table, web_progress};

pub async fn run(chom: &Chom, cmd: BackupCommand, as_json: bool) -> Result<i32> {
    match cmd {
        BackupCommand::Create { domain } => {
            let b = chom.backups().create(&domain, &control(web_progress(!as_json))).await?;
            if as_json {
                json(&b);
            } else {
                println!(
                    "backup {} of {}: release {}, {} files ({}, {} new){}; not verified yet: run chom backup check {}",
                    b.id,
                    b.domain,
                    b.release.as_deref().unwrap_or("?"),
                    b.files,
                    bytes(b.bytes),
                    bytes(b.added_bytes),
                    b.db_snapshot.as_ref().map_or_else(String::new, |_| format!(", database {}", bytes(b.db_bytes))),
                    b.server
                );
            }
        }
        BackupCommand::List { domain, limit } => {
            let all = chom.backups().list(domain.as_deref(), limit)?;
            if as_json {
                json(&all);
            } else {
                list(&all);
            }
        }
        BackupCommand::Overview { server } => {
            let all = chom.backups().overview(server.as_deref())?;
            if as_json {
                json(&all);
            } else {
                overview_table(&all);
            }
        }
        BackupCommand::Show { id } => {
            let b = chom.backups().show(id)?;
            if as_json {
                json(&b);
            } else {
                list(std::slice::from_ref(&b));
                if !b.error.is_empty() {
                    println!("error: {}", b.error);
                }
                if !b.drill_error.is_empty() {
                    println!("last drill failed: {}", b.drill_error);
                }
                for (what, snap) in [("files", &b.files_snapshot), ("database", &b.db_snapshot)] {
                    if let Some(s) = snap {
                        println!("{what} snapshot: {s}");
                    }
                }
            }
        }
        BackupCommand::Drill { id } => {
            let b = chom.backups().drill(id, &control(web_progress(!as_json))).await?;
            if as_json {
                json(&b);
            } else if let Some(d) = &b.drill {
                println!(
                    "backup {} of {} restored whole on {}: {} files, {} tables, {} rows, in {:.1} s; scratch copies removed",
                    b.id,
                    b.domain,
                    b.server,
                    d.files,
                    d.tables,
                    d.rows,
                    d.ms as f64 / 1000.0
                );
            }
        }
        BackupCommand::Restore { id, path: Some(path), into, .. } => {
            let req = PathRestoreRequest { path, into };
            let r = chom.backups().restore_path(id, &req, &control(web_progress(!as_json))).await?;
            if as_json {
                json(&r);
            } else {
                println!("{} of backup {id}: {} files, in {} of {}", req.path, r.files, r.placed, r.domain);
            }
        }
        BackupCommand::Restore { id, database, health_path, health_text, to, server, .. } => {
            let parts = if database { RestoreParts::Database } else { RestoreParts::Site };
            let to = to.map(|domain| RestoreTarget { domain, server });
            let req = RestoreRequest { parts, health_path: Some(health_path), health_text, to };
            let r = chom.backups().restore(id, &req, &control(web_progress(!as_json))).await?;
            if as_json {
                json(&r);
            } else {
                println!(
                    "{} restored from backup {id} ({}): release {} live (was {}); chom backup undo {} switches back",
                    r.domain,
                    parts.as_str(),
                    r.release.as_deref().unwrap_or("?"),
                    r.previous.as_deref().unwrap_or("none"),
                    r.domain
                );
            }
        }
        BackupCommand::Download { id, to } => {
            let d = chom.backups().download(id, &to, &control(web_progress(!as_json))).await?;
            if as_json {
                json(&d);
            } else {
                println!("backup {} downloaded into {}: {}", d.backup, d.folder, d.files.join(", "));
            }
        }
        BackupCommand::Upload { folder, to, server, health_path, health_text } => {
            let to = RestoreTarget { domain: to, server };
            let req =
                RestoreRequest { parts: RestoreParts::Site, health_path: Some(health_path), health_text, to: None };
            let r = chom.backups().upload(&folder, &to, &req, &control(web_progress(!as_json))).await?;
            if as_json {
                json(&r);
            } else {
                println!(
                    "{} restored from {}: release {} live; chom backup undo {} switches back",
                    r.domain,
                    folder.display(),
                    r.release.as_deref().unwrap_or("?"),
                    r.domain
                );
            }
        }
        BackupCommand::Undo { domain } => {
            let r = chom.backups().undo(&domain, &control(web_progress(!as_json))).await?;
            if as_json {
                json(&r);
            } else {
                println!(
                    "{} switched back: release {} live (was {}); undo again to switch forth",
                    r.domain,
                    r.release.as_deref().unwrap_or("?"),
                    r.previous.as_deref().unwrap_or("?")
                );
            }
        }
        BackupCommand::Forget { domain, keep_last, keep_daily, keep_weekly, keep_monthly, dry_run } => {
            let rules = Retention { keep_last, keep_daily, keep_weekly, keep_monthly };
            let plan = chom.backups().forget(&domain, &rules, dry_run, &control(web_progress(!as_json))).await?;
            if as_json {
                json(&plan);
            } else {
                plan_table(&plan);
            }
        }
        BackupCommand::Schedule { domain, at, keep_last, keep_daily, keep_weekly, keep_monthly, drill, off } => {
            let rules = Retention { keep_last, keep_daily, keep_weekly, keep_monthly };
            let retention =
                [keep_last, keep_daily, keep_weekly, keep_monthly].iter().any(Option::is_some).then_some(rules);
            let views = match (domain, at, off) {
                (Some(d), Some(at), _) => {
                    let input = ScheduleInput { at, retention, drill };
                    chom.backups()
                        .schedule(&d, Some(&input), &control(web_progress(!as_json)))
                        .await?
                        .into_iter()
                        .collect()
                }
                (Some(d), None, true) => {
                    chom.backups().schedule(&d, None, &control(web_progress(!as_json))).await?;
                    if !as_json {
                        println!("{d}: no scheduled backup any more");
                    }
                    vec![]
                }
                (None, _, true) | (None, Some(_), _) => {
                    return Err(chom_core::Error::Usage("name the site to schedule".into()))
                }
                (d, None, false) => {
                    let all = chom.backups().schedules(None)?;
                    all.into_iter().filter(|s| d.as_ref().is_none_or(|d| &s.domain == d)).collect()
                }
            };
            if as_json {
                json(&views);
            } else if !views.is_empty() || !off {
                schedule_table(&views);
            }
        }
        BackupCommand::Check { server, read } => {
            let r = chom.backups().check(&server, read, &control(web_progress(!as_json))).await?;
            if as_json {
                json(&r);
            } else {
                println!(
                    "{}: {}% of the repository read back whole; {} backups good",
                    r.server, r.read_percent, r.verified
                );
            }
        }
    }
    Ok(0)
}

fn list(all: &[BackupRecord]) {
    let rows: Vec<Vec<String>> = all
        .iter()
        .map(|b| {
            let state = match (b.good, b.drilled_at.is_some()) {
                (true, true) => "good, restore-tested".to_owned(),
                (true, false) => "good".to_owned(),
                (false, _) if !b.damage.is_empty() => "damaged".to_owned(),
                (false, _) => b.state.as_str().to_owned(),
            };
            vec![
                b.id.to_string(),
                b.domain.clone(),
                b.server.clone(),
                ago(Some(b.started_at)),
                state,
                b.release.clone().unwrap_or_else(|| "-".into()),
                bytes(b.bytes + b.db_bytes),
                ago(b.verified_at),
            ]
        })
        .collect();
    table(&["ID", "SITE", "SERVER", "MADE", "STATE", "RELEASE", "SIZE", "VERIFIED"], &rows);
}

/// What a retention plan keeps (and why) and removes.
fn plan_table(plan: &RetentionPlan) {
    let backup = |b: Option<chom_core::BackupId>| b.map_or_else(|| "-".to_owned(), |b| b.to_string());
    let kept = plan.keep.iter().map(|s| (s, "keep", s.reasons.join(", ")));
    let gone = plan.remove.iter().map(|s| (s, if plan.applied { "removed" } else { "would remove" }, String::new()));
    let rows: Vec<Vec<String>> = kept
        .chain(gone)
        .map(|(s, what, why)| {
            vec![
                backup(s.backup),
                s.time.clone(),
                s.snapshot[..s.snapshot.len().min(8)].to_owned(),
                what.to_owned(),
                why,
            ]
        })
        .collect();
    table(&["BACKUP", "MADE", "SNAPSHOT", "PLAN", "WHY"], &rows);
    match (plan.applied, plan.remove.len()) {
        (_, 0) => println!("{}: nothing to remove", plan.domain),
        (true, n) => println!("{}: {n} backups removed and the repository pruned", plan.domain),
        (false, n) => println!("{}: {n} backups would be removed (dry run: nothing changed)", plan.domain),
    }
}

/// Schedules with their last run, and what is missed.
fn schedule_table(all: &[ScheduleView]) {
    let rows: Vec<Vec<String>> = all
        .iter()
        .map(|s| {
            let last = match (s.last_run_at, s.last_ok) {
                (Some(t), Some(true)) => format!("ok, {}", ago(Some(t))),
                (Some(t), _) => format!("failed {}: {}", ago(Some(t)), s.last_error),
                (None, _) => "none yet".to_owned(),
            };
            vec![
                s.domain.clone(),
                s.server.clone(),
                format!("daily {}", s.at),
                s.drill.clone(),
                last,
                s.missed.clone().unwrap_or_else(|| "-".into()),
            ]
        })
        .collect();
    table(&["SITE", "SERVER", "WHEN", "DRILLED", "LAST RUN", "MISSED"], &rows);
}

/// Sites and how well their backups cover them.
fn overview_table(all: &[SiteBackups]) {
    let rows: Vec<Vec<String>> = all
        .iter()
        .map(|s| {
            let coverage = match s.coverage {
                Coverage::Covered => "covered",
                Coverage::Stale => "STALE",
                Coverage::NoGoodBackup => "NO GOOD BACKUP",
            };
            let schedule = match &s.schedule {
                Some(v) => match &v.missed {
                    Some(m) => format!("daily {}, MISSED: {m}", v.at),
                    None => format!("daily {}", v.at),
                },
                None => "-".to_owned(),
            };
            vec![
                s.domain.clone(),
                s.server.clone(),
                coverage.to_owned(),
                s.last_good.as_ref().map_or_else(|| "-".into(), |b| format!("{} ({})", ago(Some(b.started_at)), b.id)),
                s.last_restore_tested
                    .as_ref()
                    .map_or_else(|| "-".into(), |b| format!("{} ({})", ago(Some(b.started_at)), b.id)),
                schedule,
            ]
        })
        .collect();
    table(&["SITE", "SERVER", "COVERAGE", "LAST GOOD", "RESTORE-TESTED", "SCHEDULE"], &rows);
}
