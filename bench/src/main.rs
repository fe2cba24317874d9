//! `chom-probe-bench --data-dir D`: probes every server in D twice in one
//! process (cold: connect + probe; warm: the same over the pooled
//! connections) and prints one JSON line per round with wall and CPU time.
//! `chom-probe-bench --print-script` prints the probe command, so the other
//! tools in bench/probe.sh run exactly the same thing.

use std::time::Instant;

use chom_core::fleet::probe::PROBE_SCRIPT;
use chom_core::jobs::Control;
use chom_core::{Chom, Selection};

/// User + system CPU seconds of this process so far.
fn cpu_seconds() -> f64 {
    let stat = std::fs::read_to_string("/proc/self/stat").unwrap_or_default();
    let fields: Vec<&str> = stat.rsplit_once(')').map(|(_, r)| r.split_whitespace().collect()).unwrap_or_default();
    let ticks: f64 = fields.get(11..13).map(|f| f.iter().filter_map(|t| t.parse::<f64>().ok()).sum()).unwrap_or(0.0);
    ticks / 100.0
}

fn peak_rss_kib() -> u64 {
    let status = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
    status
        .lines()
        .find_map(|l| l.strip_prefix("VmHWM:"))
        .and_then(|v| v.split_whitespace().next()?.parse().ok())
        .unwrap_or(0)
}

fn main() {
    let args: Vec<String> = std::env::args().collect();
    if args.iter().any(|a| a == "--print-script") {
        print!("{PROBE_SCRIPT}");
        return;
    }
    let dir = match args.iter().position(|a| a == "--data-dir").and_then(|i| args.get(i + 1)) {
        Some(d) => std::path::PathBuf::from(d),
        None => {
            eprintln!("usage: chom-probe-bench --data-dir DIR [--rounds N] | --print-script");
            std::process::exit(2);
        }
    };
    let rounds: usize =
        args.iter().position(|a| a == "--rounds").and_then(|i| args.get(i + 1)?.parse().ok()).unwrap_or(2);
    let rt = tokio::runtime::Builder::new_multi_thread().enable_all().build().expect("runtime");
    let failed = rt.block_on(async {
        let chom = Chom::open(&dir).expect("open the data dir");
        let sel = Selection { all: true, ..Default::default() };
        let mut failed = 0;
        for round in 0..rounds {
            let (cpu0, t0) = (cpu_seconds(), Instant::now());
            let report = chom.fleet().probe(&sel, &Control::quiet()).await.expect("probe");
            let wall = t0.elapsed().as_secs_f64();
            let cpu = cpu_seconds() - cpu0;
            failed += report.failed;
            let errors: Vec<&str> = report.results.iter().filter_map(|r| r.error.as_deref()).take(3).collect();
            println!(
                "{}",
                serde_json::json!({
                    "round": if round == 0 { "cold" } else { "warm" },
                    "wall_s": wall, "cpu_s": cpu, "peak_rss_kib": peak_rss_kib(),
                    "ok": report.succeeded, "failed": report.failed, "errors": errors,
                })
            );
        }
        failed
    });
    rt.shutdown_background();
    std::process::exit(i32::from(failed > 0));
}
