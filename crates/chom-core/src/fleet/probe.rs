//! The health probe: one command, one round trip per server, forking as
//! little as possible on the server (files are read with the shell's `read`
//! builtin; only `df` and, under systemd, `systemctl` are separate programs),
//! because on a large fleet the servers' CPU is what limits a probe. Without
//! systemd, a service is up when the process its pid file (the one Debian's
//! packages write) names runs with the service's name; no pid file is a
//! service that is down. Either way the cost does not grow with the number
//! of processes on the server: the probe never walks /proc (it did for a
//! service without a pid file, which made a host running 2,000 processes
//! 2.2 times slower to probe).

use std::collections::BTreeMap;

use crate::db::{ProbeFacts, ServiceState};

/// Dumps raw sections; all parsing happens here, on the desktop.
pub const PROBE_SCRIPT: &str = r#"export LC_ALL=C
s() { echo "@@$1"; [ -r "$2" ] && while IFS= read -r l || [ -n "$l" ]; do echo "$l"; done < "$2"; }
s hostname /proc/sys/kernel/hostname
s os /etc/os-release
s kernel /proc/sys/kernel/osrelease
s uptime /proc/uptime
s loadavg /proc/loadavg
s cpus /sys/devices/system/cpu/online
s meminfo /proc/meminfo
echo @@df
df -Pk / </dev/null 2>/dev/null
echo @@bin
for b in /usr/sbin/nginx /usr/sbin/php-fpm* /usr/sbin/mariadbd /usr/sbin/mysqld; do [ -x "$b" ] && echo "${b##*/}"; done
echo @@svc
if [ -d /run/systemd/system ]; then
  echo systemd
  systemctl list-units --type=service --state=running --no-legend --plain nginx.service 'php*-fpm.service' mariadb.service mysql.service </dev/null 2>/dev/null
else
  echo init
  for b in /usr/sbin/nginx /usr/sbin/php-fpm* /usr/sbin/mariadbd /usr/sbin/mysqld; do
    [ -x "$b" ] || continue
    case "${b##*/}" in
      nginx) f=/run/nginx.pid ;;
      php-fpm*) f="/run/php/php${b##*/php-fpm}-fpm.pid" ;;
      *) f=/run/mysqld/mysqld.pid ;;
    esac
    # A pid file may end without a newline (php-fpm's does).
    p=
    [ -r "$f" ] && { read -r p < "$f" 2>/dev/null || true; }
    case "$p" in "" | *[!0-9]*) ;; *) read -r c < "/proc/$p/comm" 2>/dev/null && echo "$c" ;; esac
  done
fi
echo @@cron
if [ -x /usr/sbin/cron ] || [ -x /usr/sbin/crond ]; then
  echo installed
  if [ -r /run/crond.pid ]; then
    p=
    read -r p < /run/crond.pid 2>/dev/null || true
    case "$p" in "" | *[!0-9]*) ;; *) read -r c < "/proc/$p/comm" 2>/dev/null && echo "$c" ;; esac
  fi
fi
echo @@backups
for f in /var/lib/chom/backups/*.json; do [ -r "$f" ] && read -r l < "$f" && echo "$l"; done
echo @@end
"#;

/// The three web services the probe reports on.
pub const SERVICES: [&str; 3] = ["nginx", "php-fpm", "mariadb"];

/// Why probe output could not be understood.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0}")]
pub struct BadProbeOutput(pub String);

fn bad(msg: impl Into<String>) -> BadProbeOutput {
    BadProbeOutput(msg.into())
}

/// Parses the probe script's output.
pub fn parse_probe(output: &str) -> Result<ProbeFacts, BadProbeOutput> {
    let mut sections: BTreeMap<&str, Vec<&str>> = BTreeMap::new();
    let mut current: Option<&str> = None;
    for line in output.lines() {
        if let Some(name) = line.strip_prefix("@@") {
            current = Some(name);
            sections.entry(name).or_default();
        } else if let Some(name) = current {
            sections.entry(name).or_default().push(line);
        }
    }
    if !sections.contains_key("end") {
        return Err(bad("the probe output is incomplete or not from the CHOM probe (no end marker)"));
    }
    let section = |name: &str| sections.get(name).map(Vec::as_slice).unwrap_or(&[]);
    let first = |name: &str| -> Result<&str, BadProbeOutput> {
        section(name)
            .first()
            .copied()
            .filter(|l| !l.trim().is_empty())
            .ok_or_else(|| bad(format!("no {name} in the probe output")))
    };

    let load = parse_floats(first("loadavg")?, 3).ok_or_else(|| bad("unreadable /proc/loadavg"))?;
    let uptime = parse_floats(first("uptime")?, 1).ok_or_else(|| bad("unreadable /proc/uptime"))?;
    let mem = parse_meminfo(section("meminfo"))?;
    let (disk_total, disk_free) = parse_df(section("df"))?;
    Ok(ProbeFacts {
        hostname: first("hostname")?.trim().to_owned(),
        os: parse_os_release(section("os")),
        kernel: section("kernel").first().map(|k| k.trim().to_owned()).unwrap_or_default(),
        uptime_s: uptime[0].max(0.0) as u64,
        load: [load[0], load[1], load[2]],
        cpus: parse_cpu_list(first("cpus")?).ok_or_else(|| bad("unreadable CPU list"))?,
        mem_total: mem[0],
        mem_available: mem[1],
        swap_total: mem[2],
        swap_free: mem[3],
        disk_total,
        disk_free,
        services: parse_services(section("bin"), section("svc")),
    })
}

/// What the probe saw of the server's scheduled backups: whether cron
/// runs (`None`: not installed), and each schedule's last status line
/// (JSON written by its runner, read by chom/schedule.rs).
#[derive(Debug, Clone, Default, PartialEq)]
pub struct BackupStatus {
    pub cron: Option<bool>,
    pub runs: Vec<String>,
}

pub fn parse_backup_status(output: &str) -> BackupStatus {
    let mut section = "";
    let (mut cron, mut runs) = (None, vec![]);
    for line in output.lines() {
        if let Some(name) = line.strip_prefix("@@") {
            section = name;
            continue;
        }
        match section {
            "cron" if line == "installed" => cron = Some(false),
            "cron" if line == "cron" || line == "crond" => cron = Some(true),
            "backups" if line.starts_with('{') => runs.push(line.to_owned()),
            _ => {}
        }
    }
    BackupStatus { cron, runs }
}

fn parse_floats(line: &str, n: usize) -> Option<Vec<f64>> {
    let v: Vec<f64> = line.split_whitespace().take(n).map(str::parse).collect::<Result<_, _>>().ok()?;
    (v.len() == n && v.iter().all(|x| x.is_finite())).then_some(v)
}

/// "0-3,6" -> 5
fn parse_cpu_list(list: &str) -> Option<u32> {
    let mut n = 0u32;
    for part in list.trim().split(',') {
        let count = match part.split_once('-') {
            Some((a, b)) => b.parse::<u32>().ok()?.checked_sub(a.parse::<u32>().ok()?)?.checked_add(1)?,
            None => {
                part.parse::<u32>().ok()?;
                1
            }
        };
        n = n.checked_add(count)?;
    }
    // No machine has more; a bigger count is not a CPU list.
    (n > 0 && n <= 1 << 20).then_some(n)
}

/// [MemTotal, MemAvailable, SwapTotal, SwapFree] in bytes.
fn parse_meminfo(lines: &[&str]) -> Result<[u64; 4], BadProbeOutput> {
    let get = |key: &str| {
        lines.iter().find_map(|l| {
            let (k, v) = l.split_once(':')?;
            (k == key).then(|| v.split_whitespace().next()?.parse::<u64>().ok()?.checked_mul(1024)).flatten()
        })
    };
    let total = get("MemTotal").ok_or_else(|| bad("no MemTotal in /proc/meminfo"))?;
    // Kernels before 3.14 have no MemAvailable.
    let available = get("MemAvailable")
        .or_else(|| get("MemFree")?.checked_add(get("Buffers").unwrap_or(0))?.checked_add(get("Cached").unwrap_or(0)))
        .ok_or_else(|| bad("no MemAvailable or MemFree in /proc/meminfo"))?;
    Ok([total, available, get("SwapTotal").unwrap_or(0), get("SwapFree").unwrap_or(0)])
}

/// `df -Pk /`: header, then "fs 1024-blocks used available capacity mount".
fn parse_df(lines: &[&str]) -> Result<(u64, u64), BadProbeOutput> {
    let row = lines.get(1).ok_or_else(|| bad("no df output for /"))?;
    let f: Vec<&str> = row.split_whitespace().collect();
    let n = f.len();
    if n < 6 {
        return Err(bad("unreadable df output for /"));
    }
    let total = f[n - 5].parse::<u64>().map_err(|_| bad("unreadable df size"))?;
    let free = f[n - 3].parse::<u64>().map_err(|_| bad("unreadable df free space"))?;
    let bytes = |kib: u64| kib.checked_mul(1024).ok_or_else(|| bad("df size out of range"));
    Ok((bytes(total)?, bytes(free)?))
}

fn parse_os_release(lines: &[&str]) -> String {
    let get = |key: &str| {
        lines.iter().find_map(|l| l.strip_prefix(key)?.strip_prefix('=').map(|v| v.trim_matches('"').to_owned()))
    };
    get("PRETTY_NAME")
        .or_else(|| Some(format!("{} {}", get("NAME")?, get("VERSION_ID").unwrap_or_default())))
        .unwrap_or_else(|| "unknown".into())
}

fn service_of(name: &str) -> Option<&'static str> {
    let unit = name.split_whitespace().next().unwrap_or("").trim_end_matches(".service");
    if unit == "nginx" {
        Some("nginx")
    } else if unit.starts_with("php") && unit.contains("fpm") {
        Some("php-fpm")
    } else if unit == "mariadb" || unit == "mariadbd" || unit == "mysql" || unit == "mysqld" {
        Some("mariadb")
    } else {
        None
    }
}

fn parse_services(bins: &[&str], svc: &[&str]) -> BTreeMap<String, ServiceState> {
    let installed: Vec<&str> = bins.iter().filter_map(|b| service_of(b)).collect();
    let running: Vec<&str> = svc.iter().skip(1).filter_map(|l| service_of(l)).collect();
    SERVICES
        .iter()
        .map(|s| {
            let state = if running.contains(s) {
                ServiceState::Up
            } else if installed.contains(s) {
                ServiceState::Down
            } else {
                ServiceState::Absent
            };
            (s.to_string(), state)
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sample(svc: &str) -> String {
        format!(
            "@@hostname\nweb-1\n@@os\nNAME=\"Debian GNU/Linux\"\nPRETTY_NAME=\"Debian GNU/Linux 12 (bookworm)\"\n\
             @@kernel\n6.1.0-18-amd64\n@@uptime\n12345.67 2345.00\n@@loadavg\n0.50 0.25 0.10 1/200 3000\n\
             @@cpus\n0-3\n@@meminfo\nMemTotal:        2000 kB\nMemFree:  100 kB\nMemAvailable:    1500 kB\n\
             SwapTotal: 0 kB\nSwapFree: 0 kB\n@@df\nFilesystem 1024-blocks Used Available Capacity Mounted on\n\
             /dev/vda1 1000 400 600 40% /\n@@bin\nnginx\nphp-fpm8.2\n{svc}@@end\n"
        )
    }

    #[test]
    fn parses_a_debian_host_without_systemd() {
        let f = parse_probe(&sample("@@svc\ninit\nnginx\nnginx\n")).unwrap();
        assert_eq!(f.hostname, "web-1");
        assert_eq!(f.os, "Debian GNU/Linux 12 (bookworm)");
        assert_eq!(f.kernel, "6.1.0-18-amd64");
        assert_eq!(f.uptime_s, 12345);
        assert_eq!(f.load, [0.5, 0.25, 0.1]);
        assert_eq!(f.cpus, 4);
        assert_eq!((f.mem_total, f.mem_available), (2000 * 1024, 1500 * 1024));
        assert_eq!((f.disk_total, f.disk_free), (1000 * 1024, 600 * 1024));
        assert_eq!(f.services["nginx"], ServiceState::Up);
        assert_eq!(f.services["php-fpm"], ServiceState::Down);
        assert_eq!(f.services["mariadb"], ServiceState::Absent);
    }

    /// A server that answers garbage gets an error, never a panic or a
    /// wrapped number.
    #[test]
    fn out_of_range_numbers_are_errors_not_panics() {
        let good = sample("@@svc\ninit\n");
        for (from, to) in [
            ("@@cpus\n0-3", "@@cpus\n0-4294967295"),
            ("@@cpus\n0-3", "@@cpus\n0-4000000000,0-4000000000"),
            ("MemTotal:        2000 kB", "MemTotal: 18446744073709551615 kB"),
            ("/dev/vda1 1000 400 600", "/dev/vda1 18446744073709551615 400 600"),
            ("@@uptime\n12345.67", "@@uptime\nNaN"),
        ] {
            let text = good.replacen(from, to, 1);
            assert_ne!(text, good, "{from}");
            assert!(parse_probe(&text).is_err(), "{to}");
        }
        let old_kernel = good.replacen("MemAvailable:    1500 kB\n", "Buffers: 18014398509481983 kB\n", 1);
        assert!(parse_probe(&old_kernel).is_err());
    }

    #[test]
    fn parses_systemd_units() {
        let f = parse_probe(&sample(
            "@@svc\nsystemd\nphp8.2-fpm.service loaded active running The PHP 8.2 FastCGI Process Manager\n",
        ))
        .unwrap();
        assert_eq!(f.services["php-fpm"], ServiceState::Up);
        assert_eq!(f.services["nginx"], ServiceState::Down);
    }

    #[test]
    fn garbage_and_truncated_output_are_errors() {
        assert!(parse_probe("hello world\n").is_err());
        assert!(parse_probe("").is_err());
        let s = sample("@@svc\ninit\n");
        assert!(parse_probe(&s[..s.len() / 2]).is_err());
        let broken = s.replace("0.50 0.25 0.10", "x y z");
        assert!(parse_probe(&broken).unwrap_err().0.contains("loadavg"));
    }

    #[test]
    fn cpu_lists() {
        assert_eq!(parse_cpu_list("0"), Some(1));
        assert_eq!(parse_cpu_list("0-3,6,8-9"), Some(7));
        assert_eq!(parse_cpu_list("x"), None);
        assert_eq!(parse_cpu_list("3-1"), None);
    }

    /// The script runs on this machine's own shell and its output parses.
    #[test]
    fn the_script_runs_on_a_real_shell() {
        let out = std::process::Command::new("sh").arg("-c").arg(PROBE_SCRIPT).output().unwrap();
        assert!(out.status.success());
        let f = parse_probe(&String::from_utf8_lossy(&out.stdout)).unwrap();
        let hostname = std::fs::read_to_string("/proc/sys/kernel/hostname").unwrap();
        assert_eq!(f.hostname, hostname.trim());
        assert!(f.cpus >= 1 && f.mem_total > 0 && f.disk_total > 0);
    }
}
