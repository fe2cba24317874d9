"""Measures the release app on a seeded data directory: launch to an
interactive Fleet table (WebDriver session request -> rows painted; and the
page's own `fleet-interactive` mark), filter-as-you-type latency (input
event -> filtered rows painted, two animation frames), and the resident
memory (RSS and PSS) of the app and its WebKit processes together.
Usage: app_bench.py APP DATA_DIR SERVERS"""
import os
import signal
import statistics
import subprocess
import sys
import time

from selenium import webdriver
from selenium.webdriver.common.by import By
from selenium.webdriver.common.options import ArgOptions
from selenium.webdriver.support.ui import WebDriverWait

APP, DATA, N = sys.argv[1], sys.argv[2], int(sys.argv[3])


def tree(root):
    """PIDs of root and all its descendants."""
    parent = {}
    for pid in filter(str.isdigit, os.listdir("/proc")):
        try:
            parent[int(pid)] = int(open(f"/proc/{pid}/stat").read().rsplit(")", 1)[1].split()[1])
        except (OSError, IndexError, ValueError):
            pass
    out, todo = [], [root]
    while todo:
        p = todo.pop()
        out.append(p)
        todo.extend(c for c, pp in parent.items() if pp == p)
    return out


def memory_kib(pids):
    rss = pss = 0
    for p in pids:
        try:
            for line in open(f"/proc/{p}/smaps_rollup"):
                if line.startswith("Rss:"):
                    rss += int(line.split()[1])
                elif line.startswith("Pss:"):
                    pss += int(line.split()[1])
        except OSError:
            pass
    return rss, pss


def app_pid():
    for pid in filter(str.isdigit, os.listdir("/proc")):
        try:
            if os.readlink(f"/proc/{pid}/exe") == os.path.realpath(APP):
                return int(pid)
        except OSError:
            pass
    return None


driver_proc = subprocess.Popen(["tauri-driver"], env=dict(os.environ, CHOM_DATA_DIR=DATA),
                               stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
time.sleep(1.0)
try:
    options = ArgOptions()
    options.set_capability("browserName", "wry")
    options.set_capability("tauri:options", {"application": APP})
    t0 = time.monotonic()
    driver = webdriver.Remote(command_executor="http://127.0.0.1:4444", options=options)
    try:
        WebDriverWait(driver, 60, poll_frequency=0.01).until(
            lambda d: d.execute_script("return performance.getEntriesByName('fleet-interactive').length") > 0)
        external = time.monotonic() - t0
        mark = driver.execute_script("return performance.getEntriesByName('fleet-interactive')[0].startTime")
        count = driver.find_element(By.CSS_SELECTOR, "[data-testid=count]").text
        assert f"{N} of {N}" in count, count

        # Input event -> the table's DOM shows that query's page (the core
        # filters: the page arrives over IPC, and the count's data-search
        # says which query it answers), and -> the next frame starts.
        latencies, frames = [], []
        for q in ["srv-0", "srv-01", "srv-012", "srv-0123", "client-07", "web", "zz-nothing", ""] * 3:
            upd, frame = driver.execute_async_script(
                """const [q, done] = arguments;
                   const input = document.querySelector('[data-testid=search]');
                   const count = document.querySelector('[data-testid=count]');
                   const t = performance.now();
                   input.value = q;
                   input.dispatchEvent(new Event('input', { bubbles: true }));
                   const shown = () => {
                     if (count.dataset.search !== q) return false;
                     const u = performance.now() - t;
                     requestAnimationFrame(() => done([u, performance.now() - t]));
                     return true;
                   };
                   if (!shown()) {
                     const seen = new MutationObserver(() => shown() && seen.disconnect());
                     seen.observe(count, { attributes: true });
                   }""",
                q)
            latencies.append(upd)
            frames.append(frame)
        shown = driver.find_element(By.CSS_SELECTOR, "[data-testid=count]").text
        rows_in_dom = len(driver.find_elements(By.CSS_SELECTOR, "tbody tr[data-server]"))
        time.sleep(1.0)
        pid = app_pid()
        pids = tree(pid) if pid else []
        rss, pss = memory_kib(pids)
        p95 = lambda xs: sorted(xs)[int(len(xs) * 0.95) - 1]
        print("| servers | launch to interactive (WebDriver request -> painted) | same, page's own mark "
              "| filter: DOM updated, median / p95 | filter: to next frame, median / p95 | rows in DOM "
              "| app + WebKit RSS | PSS |")
        print("|---|---|---|---|---|---|---|---|")
        print(f"| {N} | {external:.2f} s | {mark / 1000:.2f} s | {statistics.median(latencies):.1f} / {p95(latencies):.1f} ms "
              f"| {statistics.median(frames):.1f} / {p95(frames):.1f} ms | {rows_in_dom} | {rss / 1024:.0f} MiB | {pss / 1024:.0f} MiB |")
        for p in pids:
            try:
                name = open(f"/proc/{p}/comm").read().strip()
            except OSError:
                continue
            print(f"  {name} ({p}): RSS {memory_kib([p])[0] / 1024:.0f} MiB, PSS {memory_kib([p])[1] / 1024:.0f} MiB")
        print(f"(last filter shows: {shown})")
    finally:
        driver.quit()
finally:
    driver_proc.send_signal(signal.SIGTERM)
    try:
        driver_proc.wait(timeout=10)
    except subprocess.TimeoutExpired:
        driver_proc.kill()
