#!/usr/bin/env python3
"""measure.py -- CMD...: run CMD and print one JSON line: wall seconds, CPU
seconds (user+sys of CMD and every child it waited for), peak memory (the
largest sum of RSS,
sampled every 20 ms over the whole process tree, so a fan-out of 200 ssh
processes counts as 200), and
the exit status. Stdout/stderr of CMD are discarded."""
import json
import os
import subprocess
import sys
import threading
import time


def tree_rss_kib(root):
    """Sum of RSS over `root` and all its descendants (tools such as pssh
    put their ssh children in sessions of their own, so a process group
    would miss them)."""
    parent, rss = {}, {}
    page_kib = os.sysconf("SC_PAGE_SIZE") // 1024
    for pid in os.listdir("/proc"):
        if not pid.isdigit():
            continue
        try:
            with open(f"/proc/{pid}/stat") as f:
                fields = f.read().rsplit(")", 1)[1].split()
            with open(f"/proc/{pid}/statm") as f:
                rss[int(pid)] = int(f.read().split()[1]) * page_kib
            parent[int(pid)] = int(fields[1])
        except (OSError, IndexError, ValueError):
            pass
    total = 0
    for pid in rss:
        p, seen = pid, 0
        while p and p != root and seen < 64:
            p, seen = parent.get(p, 0), seen + 1
        if p == root:
            total += rss[pid]
    return total


def main():
    cmd = sys.argv[1:]
    if cmd and cmd[0] == "--":
        cmd = cmd[1:]
    start = time.monotonic()
    proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                            stdin=subprocess.DEVNULL, start_new_session=True)
    peak = [0]
    done = threading.Event()

    def sample():
        while not done.is_set():
            peak[0] = max(peak[0], tree_rss_kib(proc.pid))
            done.wait(0.02)

    t = threading.Thread(target=sample, daemon=True)
    t.start()
    _, status, usage = os.wait4(proc.pid, 0)
    wall = time.monotonic() - start
    done.set()
    t.join()
    print(json.dumps({
        "wall_s": round(wall, 3),
        "cpu_s": round(usage.ru_utime + usage.ru_stime, 3),
        "peak_mib": round(max(peak[0], usage.ru_maxrss) / 1024, 1),
        "status": os.waitstatus_to_exitcode(status),
    }))


if __name__ == "__main__":
    main()
