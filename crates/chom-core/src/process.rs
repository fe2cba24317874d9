//! A process as jobs record it: its PID and when it started. A job left
//! running by a process that died is told apart from one a live process
//! still runs (the app and a CLI share one data directory), even when the
//! OS has since given the PID to another program.

use std::sync::OnceLock;

use sysinfo::{Pid, ProcessRefreshKind, ProcessStatus, ProcessesToUpdate, System};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ProcessStamp {
    pub pid: u32,
    /// Seconds since the Unix epoch, as the OS reports the start.
    pub started: u64,
}

/// This process.
pub fn current() -> ProcessStamp {
    static CURRENT: OnceLock<ProcessStamp> = OnceLock::new();
    *CURRENT.get_or_init(|| {
        let pid = std::process::id();
        ProcessStamp { pid, started: started_at(pid).unwrap_or(0) }
    })
}

/// When process `pid` started, or `None` if there is none. A process that
/// ended but was not reaped yet by its parent (a zombie: a killed app whose
/// launcher has not waited for it) is none: it runs nothing any more.
pub fn started_at(pid: u32) -> Option<u64> {
    let pid = Pid::from_u32(pid);
    let mut sys = System::new();
    sys.refresh_processes_specifics(ProcessesToUpdate::Some(&[pid]), false, ProcessRefreshKind::nothing());
    sys.process(pid)
        .filter(|p| !matches!(p.status(), ProcessStatus::Zombie | ProcessStatus::Dead))
        .map(|p| p.start_time())
}

/// Whether the process of `stamp` still runs: its PID exists and started
/// when it did (a second of slack for the OS's rounding). A stamp without
/// a start time (rows from before it was kept) goes by the PID alone.
pub fn alive(stamp: ProcessStamp) -> bool {
    if stamp == current() {
        return true;
    }
    match started_at(stamp.pid) {
        None => false,
        Some(_) if stamp.started == 0 => true,
        Some(started) => started.abs_diff(stamp.started) <= 1,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_pid_given_to_another_program_is_not_the_process_that_ran_the_job() {
        let me = current();
        assert!(me.started > 0, "{me:?}");
        assert!(alive(me));
        let child = std::process::Command::new("sleep").arg("30").spawn().unwrap();
        let stamp = ProcessStamp { pid: child.id(), started: started_at(child.id()).unwrap() };
        assert!(alive(stamp));
        // The same PID, started at another time: not the one that ran the job.
        assert!(!alive(ProcessStamp { started: stamp.started - 3600, ..stamp }));
        let mut child = child;
        child.kill().unwrap();
        // Killed, not reaped yet: a zombie runs nothing.
        let deadline = std::time::Instant::now() + std::time::Duration::from_secs(5);
        while alive(stamp) {
            assert!(std::time::Instant::now() < deadline, "a killed process that is not reaped is alive");
            std::thread::sleep(std::time::Duration::from_millis(10));
        }
        child.wait().unwrap();
        assert!(!alive(stamp), "a process that ended");
        assert!(!alive(ProcessStamp { pid: 0, started: 1 }));
    }
}
