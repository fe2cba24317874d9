"""What the app's end-to-end scripts share: the chom CLI on the test's data
directory, checks, and the real app launched (and killed) through
tauri-driver + WebKitWebDriver."""
import json
import os
import signal
import sqlite3
import subprocess
import time

from selenium import webdriver
from selenium.webdriver.common.by import By
from selenium.webdriver.common.options import ArgOptions
from selenium.webdriver.remote.client_config import ClientConfig
from selenium.webdriver.remote.file_detector import UselessFileDetector
from selenium.webdriver.support.ui import WebDriverWait


def check(cond, message):
    if not cond:
        raise AssertionError(message)


class Cli:
    """The chom CLI on one data directory, with --json."""

    def __init__(self, bin_dir, data):
        self.bin, self.data = bin_dir, data

    def run(self, *args, timeout=300):
        return subprocess.run([f"{self.bin}/chom", "--data-dir", self.data, "--json", *args],
                              capture_output=True, text=True, timeout=timeout)

    def __call__(self, *args, timeout=300):
        out = self.run(*args, timeout=timeout)
        assert out.returncode == 0, f"chom {args}: {out.stderr}"
        return json.loads(out.stdout) if out.stdout.strip() else None

    def integrity(self):
        with sqlite3.connect(os.path.join(self.data, "chom.sqlite3")) as db:
            return db.execute("PRAGMA integrity_check").fetchone()[0]

    def newest_job(self):
        """The newest job's (id, kind, state), read from the database: a
        `chom jobs` would reconcile it before the app does."""
        with sqlite3.connect(os.path.join(self.data, "chom.sqlite3")) as db:
            return db.execute("SELECT id, kind, state FROM jobs ORDER BY id DESC LIMIT 1").fetchone() or (0, None, None)

    def job_row(self, job_id):
        """Job `job_id`'s row as the database holds it, for a failure's message."""
        with sqlite3.connect(os.path.join(self.data, "chom.sqlite3")) as db:
            db.row_factory = sqlite3.Row
            row = db.execute("SELECT * FROM jobs WHERE id = ?", (job_id,)).fetchone()
            return dict(row) if row else None


class App:
    """The built chom-desktop, one WebDriver session per launch."""

    def __init__(self, bin_dir, data):
        # WebKitWebDriver's screenshots hang when compositing is off, which
        # the app chooses by default on Linux to save memory: keep it on.
        self.env = dict(os.environ, CHOM_DATA_DIR=data, WEBKIT_DISABLE_COMPOSITING_MODE="0")
        self.start_driver()
        self.options = ArgOptions()
        self.options.set_capability("browserName", "wry")
        self.options.set_capability("tauri:options", {"application": f"{bin_dir}/chom-desktop"})
        self.driver = None

    def start_driver(self):
        self.proc = subprocess.Popen(["tauri-driver"], env=self.env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        time.sleep(1.0)

    def launch(self):
        # Every WebDriver call is bounded: a session that never starts (seen
        # once in CI: WebKitWebDriver waiting on an app that was not there)
        # fails the call instead of hanging the run. One such launch is
        # retried on a fresh tauri-driver, and the run says so.
        config = ClientConfig(remote_server_addr="http://127.0.0.1:4444", timeout=120)
        try:
            self.driver = webdriver.Remote(command_executor="http://127.0.0.1:4444", options=self.options, client_config=config)
        except Exception as e:
            print(f"app launch: no WebDriver session ({e.__class__.__name__}: {e}); starting tauri-driver again", flush=True)
            self.proc.kill()
            subprocess.run(["pkill", "-KILL", "-x", "WebKitWebDriver"], check=False)
            subprocess.run(["pkill", "-KILL", "-x", "chom-desktop"], check=False)
            self.start_driver()
            self.driver = webdriver.Remote(command_executor="http://127.0.0.1:4444", options=self.options, client_config=config)
        # Paths are typed as text: without this, Selenium turns a path to an
        # existing file into an upload, which WebKitWebDriver does not have.
        self.driver.file_detector = UselessFileDetector()
        return self.driver

    def wait(self, seconds=30):
        return WebDriverWait(self.driver, seconds)

    def css(self, sel):
        return self.driver.find_element(By.CSS_SELECTOR, sel)

    def all(self, sel):
        return self.driver.find_elements(By.CSS_SELECTOR, sel)

    def fill(self, testid, text):
        """Replaces what a field holds, as a person selecting it and typing."""
        field = self.css(f"[data-testid={testid}]")
        field.clear()
        if text:  # WebKitWebDriver refuses to type nothing
            field.send_keys(text)

    def kill(self):
        """SIGKILL to the app process, as a crash or a power cut would."""
        pids = subprocess.run(["pgrep", "-x", "chom-desktop"], capture_output=True, text=True).stdout.split()
        check(len(pids) == 1, f"one app process: {pids}")
        os.kill(int(pids[0]), signal.SIGKILL)
        try:
            self.driver.quit()
        except Exception:
            pass  # its app is gone
        self.driver = None

    def close(self):
        if self.driver:
            try:
                self.driver.quit()
            except Exception:
                pass
        self.proc.send_signal(signal.SIGTERM)
        try:
            self.proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.proc.kill()
