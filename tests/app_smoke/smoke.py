"""App smoke journey: seed an inventory with the chom CLI (two lab hosts
probed, one unreachable server), open the real app through tauri-driver,
read the Fleet table as a person would and keep a screenshot."""
import json
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time

from selenium import webdriver
from selenium.webdriver.common.by import By
from selenium.webdriver.common.options import ArgOptions
from selenium.webdriver.support import expected_conditions as EC
from selenium.webdriver.support.ui import WebDriverWait

BIN, OUT = os.path.abspath(sys.argv[1]), os.path.abspath(sys.argv[2])
work = tempfile.mkdtemp(prefix="chom-e2e-")
os.chmod(work, 0o755)
data = os.path.join(work, "data")
lab = os.path.join(work, "lab")


def chom(*args):
    out = subprocess.run([f"{BIN}/chom", "--data-dir", data, "--json", *args], capture_output=True, text=True)
    assert out.returncode == 0, f"chom {args}: {out.stderr}"
    return json.loads(out.stdout) if out.stdout.strip() else None


def check(cond, message):
    if not cond:
        raise AssertionError(message)


driver_proc = None
try:
    key = chom("key", "generate", "e2e")
    subprocess.run([f"{BIN}/chom-lab", "up", "--hosts", "2", "--subnet", "90", "--dir", lab], check=True, stdout=subprocess.DEVNULL)
    subprocess.run([f"{BIN}/chom-lab", "authorize", "--dir", lab, "--key", key["public_key"]], check=True)
    hosts = json.load(open(os.path.join(lab, "lab.json")))["hosts"]
    for h in hosts:
        chom("server", "add", h["name"], "--host", h["addr"], "--user", "chomlab", "--key", "e2e", "--tag", "lab", "--group", "acme")
        chom("server", "trust", h["name"], "--accept", h["host_key_fingerprint"])
    chom("server", "add", "gone-1", "--host", "127.90.9.9", "--key", "e2e", "--tag", "old")
    probe = subprocess.run([f"{BIN}/chom", "--data-dir", data, "--connect-timeout", "2", "probe", "--all"], capture_output=True, text=True)
    check(probe.returncode == 1, f"probe should fail for gone-1 only: {probe.stdout} {probe.stderr}")

    env = dict(os.environ, CHOM_DATA_DIR=data)
    driver_proc = subprocess.Popen(["tauri-driver"], env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    time.sleep(1.0)
    options = ArgOptions()
    options.set_capability("browserName", "wry")
    options.set_capability("tauri:options", {"application": f"{BIN}/chom-desktop"})
    driver = webdriver.Remote(command_executor="http://127.0.0.1:4444", options=options)
    try:
        wait = WebDriverWait(driver, 30)
        table = wait.until(EC.presence_of_element_located((By.CSS_SELECTOR, "[data-testid=servers]")))
        rows = table.find_elements(By.CSS_SELECTOR, "tbody tr")
        cells = [[c.text for c in r.find_elements(By.TAG_NAME, "td")] for r in rows]
        by_name = {c[0]: c for c in cells}
        check(sorted(by_name) == sorted([h["name"] for h in hosts] + ["gone-1"]), f"rows: {cells}")
        for h in hosts:
            row = by_name[h["name"]]
            check(row[4] == "up", f"{h['name']} status: {row}")
            check(row[2] == "acme" and "lab" in row[3], f"{h['name']} group/tags: {row}")
            check(row[5].endswith("ago"), f"{h['name']} last seen: {row}")
            check(row[6] != "" and row[7].endswith("%"), f"{h['name']} probe numbers: {row}")
        check(by_name["gone-1"][4] == "down", f"gone-1: {by_name['gone-1']}")
        check(by_name["gone-1"][5] == "never", f"gone-1: {by_name['gone-1']}")
        check(driver.title == "CHOM", f"title {driver.title!r}")
        time.sleep(0.5)  # a WebDriver screenshot can show the previous frame
        driver.save_screenshot(os.path.join(OUT, "fleet.png"))
        subprocess.run(["import", "-window", "root", os.path.join(OUT, "fleet-desktop.png")], check=False)
        print(f"app smoke: {len(cells)} rows read; screenshots in {OUT}")
        print("1 passed, 0 failed")
    finally:
        driver.quit()
finally:
    if driver_proc:
        driver_proc.send_signal(signal.SIGTERM)
        try:
            driver_proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            driver_proc.kill()
    subprocess.run([f"{BIN}/chom-lab", "down", "--dir", lab], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    shutil.rmtree(work, ignore_errors=True)
