//! Jobs and the audit log, from the cache.

use std::time::Duration;

use chom_core::db::{AuditFilter, JobState, LogLine};
use chom_core::{Chom, Result};

use crate::args::{AuditArgs, JobsArgs};
use crate::output::{ago, clean, json, table};

/// Log lines read per query.
const PAGE: u32 = 5000;

pub async fn jobs(chom: &Chom, args: JobsArgs, as_json: bool) -> Result<i32> {
    // Jobs a dead process left are set against their servers first, so
    // the list says what they left (a server that can not be reached now
    // is asked again next time).
    for r in chom.jobs().reconcile_interrupted().await? {
        if !as_json {
            eprintln!("interrupted job {} ({} {}): {}", r.job_id, r.kind, r.target, clean(&r.found));
        }
    }
    if args.id.is_none() {
        if let Some(text) = &args.grep {
            let hits = chom.jobs().search_logs(text, args.limit)?;
            if as_json {
                json(&hits.iter().map(|(job, l)| serde_json::json!({ "job_id": job, "line": l })).collect::<Vec<_>>());
            } else {
                for (job, l) in &hits {
                    println!("job {job}  {}", log_line(l));
                }
            }
            return Ok(0);
        }
    }
    if let (Some(id), true) = (args.id, args.resume) {
        let r = chom.jobs().resume_job(id, &super::control(crate::output::web_progress(!as_json))).await?;
        if as_json {
            json(&r);
        } else {
            println!("job {id} resumed as job {}: {}", r.job_id, clean(&r.outcome));
        }
        return Ok(0);
    }
    if args.resume {
        return Err(chom_core::Error::Usage("--resume needs the id of the job to resume".into()));
    }
    if let Some(id) = args.id {
        let (job, results) = chom.jobs().job(id)?;
        if as_json {
            let log = chom.jobs().job_log(id, args.grep.as_deref(), 0, u32::MAX)?;
            json(&serde_json::json!({ "job": job, "results": results, "log": log }));
            return Ok(0);
        }
        println!(
            "job {} {} {:?} by {}, started {}",
            job.id,
            job.kind,
            job.state,
            job.os_user,
            ago(Some(job.started_at))
        );
        if !job.detail.is_empty() {
            println!("{}: {}", if job.kind == "run" { "command" } else { "detail" }, clean(&job.detail));
        }
        if let Some(step) = &job.step {
            println!("last step: {step}");
        }
        if job.state == JobState::Interrupted {
            match &job.reconciled {
                Some(found) => println!("interrupted; the server said: {}", clean(found)),
                None => println!("interrupted; its server could not be asked yet what was left"),
            }
        }
        let rows: Vec<Vec<String>> = results
            .iter()
            .map(|r| {
                vec![
                    r.server.clone(),
                    if r.ok { "ok".into() } else { "failed".into() },
                    r.exit_status.map(|s| s.to_string()).unwrap_or_default(),
                    format!("{} ms", r.duration_ms),
                    r.error.clone().unwrap_or_default(),
                ]
            })
            .collect();
        if !rows.is_empty() {
            table(&["SERVER", "RESULT", "EXIT", "TIME", "ERROR"], &rows);
        }
        println!("log:");
        let mut after = print_log(chom, id, args.grep.as_deref(), 0)?;
        if job.log_dropped > 0 {
            println!("({} more lines were not kept)", job.log_dropped);
        }
        if args.follow {
            // Polls the cache: the job may run in another process.
            while chom.jobs().job_state(id)? == JobState::Running {
                tokio::time::sleep(Duration::from_millis(300)).await;
                after = print_log(chom, id, args.grep.as_deref(), after)?;
            }
            print_log(chom, id, args.grep.as_deref(), after)?;
        }
        return Ok(0);
    }
    let jobs = chom.jobs().list(args.limit)?;
    if as_json {
        json(&jobs);
    } else {
        let rows: Vec<Vec<String>> = jobs
            .iter()
            .map(|j| {
                vec![
                    j.id.to_string(),
                    j.kind.clone(),
                    format!("{:?}", j.state).to_lowercase(),
                    format!("{}/{}", j.succeeded, j.total),
                    ago(Some(j.started_at)),
                    j.os_user.clone(),
                    j.detail.chars().take(60).collect(),
                ]
            })
            .collect();
        table(&["ID", "KIND", "STATE", "OK", "STARTED", "USER", "DETAIL"], &rows);
    }
    Ok(0)
}

/// Prints job `id`'s log lines after line `after`; returns the last one's.
fn print_log(chom: &Chom, id: chom_core::JobId, grep: Option<&str>, mut after: i64) -> Result<i64> {
    loop {
        let page = chom.jobs().job_log(id, grep, after, PAGE)?;
        for l in &page {
            println!("{}", log_line(l));
            after = l.n;
        }
        if page.len() < PAGE as usize {
            return Ok(after);
        }
    }
}

fn log_line(l: &LogLine) -> String {
    let server = l.server.as_deref().map_or_else(String::new, |s| format!("[{s}] "));
    let mark = match l.kind.as_str() {
        "err" => "! ",
        "step" => "step ",
        "done" => "done: ",
        _ => "",
    };
    format!("{} {server}{mark}{}", l.at.format("%T"), clean(&l.line))
}

pub fn audit(chom: &Chom, args: AuditArgs, as_json: bool) -> Result<i32> {
    let entries =
        chom.jobs().audit_log(&AuditFilter { action: args.action, server: args.server, limit: args.limit })?;
    if as_json {
        json(&entries);
    } else {
        let rows: Vec<Vec<String>> = entries
            .iter()
            .map(|e| {
                vec![
                    e.at.format("%F %T").to_string(),
                    e.os_user.clone(),
                    e.action.clone(),
                    e.server.clone().unwrap_or_default(),
                    e.target.clone().unwrap_or_default().chars().take(40).collect(),
                    e.result.clone(),
                    e.detail.chars().take(80).collect(),
                ]
            })
            .collect();
        table(&["TIME (UTC)", "USER", "ACTION", "SERVER", "TARGET", "RESULT", "DETAIL"], &rows);
    }
    Ok(0)
}
