//! `chom-seed --data-dir D [--servers 10000] [--history-servers 200] [--days 30]
//! [--jobs 0] [--log-lines 0]`: fills a CHOM database with a large synthetic
//! inventory, hourly probe history (one recent probe for every other server), and finished jobs with their logs, for
//! the app benchmark (bench/app.sh). The hosts are documentation
//! addresses (192.0.2.0/24, 198.51.100.0/24); nothing connects anywhere.

use std::collections::BTreeMap;

use chom_core::db::{Db, JobState, LogWriter, NewLogLine, NewProbe, NewServer, ProbeFacts, ServiceState};
use chom_core::validate::{GroupName, Host, Port, ServerName, Tag, UnixUser};
use chrono::{Duration, Utc};

fn arg(args: &[String], name: &str, default: usize) -> usize {
    args.iter().position(|a| a == name).and_then(|i| args.get(i + 1)?.parse().ok()).unwrap_or(default)
}

fn main() {
    let args: Vec<String> = std::env::args().collect();
    let Some(dir) = args.iter().position(|a| a == "--data-dir").and_then(|i| args.get(i + 1)) else {
        eprintln!("usage: chom-seed --data-dir DIR [--servers N] [--history-servers N] [--days N]");
        std::process::exit(2);
    };
    let (servers, with_history, days) =
        (arg(&args, "--servers", 10_000), arg(&args, "--history-servers", 200), arg(&args, "--days", 30));
    std::fs::create_dir_all(dir).expect("data dir");
    let db = Db::open(&std::path::Path::new(dir).join(Db::FILE_NAME)).expect("open db");
    let tags = ["web", "db", "cache", "edge", "staging", "prod"];
    let mut ids = Vec::with_capacity(servers);
    for i in 0..servers {
        let s = NewServer {
            name: ServerName::parse(&format!("srv-{i:05}")).unwrap(),
            host: Host::parse(&format!("{}.{}", if i % 2 == 0 { "192.0.2" } else { "198.51.100" }, i % 250 + 1))
                .unwrap(),
            port: Port::SSH,
            user: UnixUser::parse("deploy").unwrap(),
            key_id: None,
            tags: vec![Tag::parse(tags[i % tags.len()]).unwrap(), Tag::parse(tags[(i / 7) % tags.len()]).unwrap()],
            group: Some(GroupName::parse(&format!("client-{:03}", i % 120)).unwrap()),
            notes: String::new(),
            jump: None,
        };
        ids.push(db.insert_server(&s).expect("insert").expect("unique name").id);
    }
    let now = Utc::now();
    let hours = days * 24;
    for (n, id) in ids.iter().take(with_history).enumerate() {
        let facts: Vec<ProbeFacts> = (0..hours).map(|h| fact_at(h, n)).collect();
        let batch: Vec<NewProbe<'_>> = facts
            .iter()
            .enumerate()
            .map(|(h, f)| NewProbe {
                server_id: *id,
                job_id: None,
                at: now - Duration::hours((hours - h) as i64),
                duration_ms: 40,
                outcome: Ok(f),
            })
            .collect();
        db.insert_probes(&batch).expect("insert probes");
    }
    // Every other server was probed too, as a fleet in use is: once, five
    // minutes ago; one in ten failed a minute later (the table then shows
    // its last known figures).
    let last = fact_at(0, 0);
    let mut rest = Vec::new();
    for (n, id) in ids.iter().enumerate().skip(with_history) {
        let (server_id, job_id) = (*id, None);
        rest.push(NewProbe { server_id, job_id, at: now - Duration::minutes(5), duration_ms: 40, outcome: Ok(&last) });
        if n % 10 == 0 {
            let failed = Err(("connect_timeout", "connecting timed out after 10s"));
            rest.push(NewProbe {
                server_id,
                job_id,
                at: now - Duration::minutes(4),
                duration_ms: 10_000,
                outcome: failed,
            });
        }
    }
    db.insert_probes(&rest).expect("insert probes");
    let (jobs, log_lines) = (arg(&args, "--jobs", 0), arg(&args, "--log-lines", 0));
    let mut writer = LogWriter::open(db.path()).expect("log writer");
    let per_job = log_lines.checked_div(jobs).unwrap_or(0);
    let mut batch = Vec::with_capacity(50_000);
    for j in 0..jobs {
        let kind = ["probe", "run", "deploy", "setup"][j % 4];
        let id = db.insert_job(kind, "uptime", "bench", 20, None).expect("insert job");
        for l in 0..per_job {
            batch.push(NewLogLine {
                job_id: id,
                at: now,
                server: Some(format!("srv-{:05}", l % 20)),
                kind: "out",
                line: format!(" 12:{:02}:07 up {l} days,  3 users,  load average: 0.08, 0.03, 0.01", l % 60),
            });
            if batch.len() == batch.capacity() {
                writer.write(&batch).expect("log lines");
                batch.clear();
            }
        }
        db.finish_job(id, JobState::Succeeded, 20, 0).expect("finish job");
    }
    writer.write(&batch).expect("log lines");
    println!(
        "seeded {servers} servers, {} probes, {jobs} jobs, {} log lines",
        with_history * hours + rest.len(),
        per_job * jobs
    );
}

/// The figures of server `n` at hour `h` of its history: a slow wave.
fn fact_at(h: usize, n: usize) -> ProbeFacts {
    let wave = ((h as f64 + n as f64) / 6.0).sin();
    ProbeFacts {
        hostname: format!("srv-{n:05}"),
        os: "Debian GNU/Linux 12 (bookworm)".into(),
        kernel: "6.1.0-18-amd64".into(),
        uptime_s: (h as u64 + 1) * 3600,
        load: [1.0 + wave, 0.8 + wave / 2.0, 0.6],
        cpus: 4,
        mem_total: 8 << 30,
        mem_available: ((4.0 + 2.0 * wave) * (1u64 << 30) as f64) as u64,
        swap_total: 0,
        swap_free: 0,
        disk_total: 100 << 30,
        disk_free: (60u64 << 30) - (h as u64) * (10 << 20),
        services: BTreeMap::from([
            ("nginx".into(), ServiceState::Up),
            ("php-fpm".into(), ServiceState::Up),
            ("mariadb".into(), ServiceState::Absent),
        ]),
    }
}
