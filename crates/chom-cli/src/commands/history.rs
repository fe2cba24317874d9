//! Jobs and the audit log, from the cache.

use chom_core::db::AuditFilter;
use chom_core::{Chom, Result};

use crate::args::{AuditArgs, JobsArgs};
use crate::output::{ago, json, table};

pub fn jobs(chom: &Chom, args: JobsArgs, as_json: bool) -> Result<i32> {
    if let Some(id) = args.id {
        let (job, results) = chom.job(id)?;
        if as_json {
            json(&serde_json::json!({ "job": job, "results": results }));
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
            println!("command: {}", job.detail);
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
        table(&["SERVER", "RESULT", "EXIT", "TIME", "ERROR"], &rows);
        return Ok(0);
    }
    let jobs = chom.jobs(args.limit)?;
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

pub fn audit(chom: &Chom, args: AuditArgs, as_json: bool) -> Result<i32> {
    let entries = chom.audit_log(&AuditFilter { action: args.action, server: args.server, limit: args.limit })?;
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
