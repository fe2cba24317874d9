use chom_core::{Chom, ProbeReport, Result, RunReport, Selection};

use super::control;
use crate::args::{RunArgs, SelectArgs};
use crate::output::{bytes, clean, json, progress_sink, table};
use crate::paint::{self, Stream};

pub(super) fn selection(s: SelectArgs) -> Selection {
    Selection { names: s.names, tag: s.tag, group: s.group, all: s.all }
}

/// Exit status: 0 when every server succeeded, 1 otherwise.
pub async fn probe(chom: &Chom, sel: SelectArgs, as_json: bool) -> Result<i32> {
    let report = chom.fleet().probe(&selection(sel), &control(progress_sink(!as_json))).await?;
    if as_json {
        json(&report)
    } else {
        print_probe(&report)
    }
    Ok(i32::from(report.failed > 0))
}

fn print_probe(r: &ProbeReport) {
    let rows: Vec<Vec<String>> = r
        .results
        .iter()
        .filter_map(|o| {
            let f = o.facts.as_ref()?;
            let svc: Vec<String> = f
                .services
                .iter()
                .filter_map(|(k, v)| {
                    let v = serde_json::to_value(v).ok()?;
                    (v != "absent").then(|| format!("{k}:{}", v.as_str().unwrap_or("")))
                })
                .collect();
            Some(vec![
                o.server.clone(),
                f.hostname.clone(),
                f.os.clone(),
                uptime(f.uptime_s),
                format!("{:.2}", f.load[0]),
                f.cpus.to_string(),
                format!("{}/{}", bytes(f.mem_total - f.mem_available.min(f.mem_total)), bytes(f.mem_total)),
                format!("{} free", bytes(f.disk_free)),
                svc.join(" "),
            ])
        })
        .collect();
    if !rows.is_empty() {
        table(&["SERVER", "HOSTNAME", "OS", "UP", "LOAD", "CPUS", "MEMORY", "DISK /", "SERVICES"], &rows);
    }
    for o in r.results.iter().filter(|o| !o.ok) {
        let failed = paint::bad(Stream::Err, "FAILED");
        eprintln!("{}: {failed}: {}", o.server, clean(o.error.as_deref().unwrap_or("unknown error")));
        if let Some(r) = &o.remedy {
            eprintln!("{}: hint: {}", o.server, clean(&crate::hint::hint(r)));
        }
    }
    println!("probed {}: {} ok, {} failed (job {})", servers(r.results.len()), r.succeeded, r.failed, r.job_id);
}

pub async fn run(chom: &Chom, args: RunArgs, as_json: bool) -> Result<i32> {
    // The words after `--` form one shell command line, as with ssh.
    let command = args.command.join(" ");
    let report = chom.fleet().run(&selection(args.select), &command, &control(progress_sink(!as_json))).await?;
    if as_json {
        json(&report)
    } else {
        print_run(&report)
    }
    Ok(i32::from(report.failed > 0))
}

fn print_run(r: &RunReport) {
    for o in &r.results {
        let status = match (&o.error, o.exit_status, &o.signal) {
            (Some(e), _, _) => format!("{}: {}", paint::bad(Stream::Out, "FAILED"), clean(e)),
            (None, Some(0), _) => paint::good(Stream::Out, "exit 0"),
            (None, Some(s), _) => paint::bad(Stream::Out, &format!("exit {s}")),
            (None, None, Some(sig)) => paint::bad(Stream::Out, &format!("killed by {}", clean(sig))),
            (None, None, None) => "no exit status".into(),
        };
        println!("=== {} ({status}, {} ms)", o.server, o.duration_ms);
        if let Some(r) = &o.remedy {
            println!("hint: {}", clean(&crate::hint::hint(r)));
        }
        for line in o.stdout.lines() {
            println!("{}", clean(line));
        }
        for line in o.stderr.lines() {
            println!("stderr: {}", clean(line));
        }
    }
    println!("ran on {}: {} ok, {} failed (job {})", servers(r.results.len()), r.succeeded, r.failed, r.job_id);
}

fn servers(n: usize) -> String {
    if n == 1 {
        "1 server".into()
    } else {
        format!("{n} servers")
    }
}

fn uptime(s: u64) -> String {
    match s {
        0..=3599 => format!("{} min", s / 60),
        3600..=86_399 => format!("{} h", s / 3600),
        _ => format!("{} d", s / 86_400),
    }
}
