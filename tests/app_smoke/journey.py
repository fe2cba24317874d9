"""The desktop app as an operator uses it, through WebDriver on the real app
(tauri-driver + WebKitWebDriver, under Xvfb), against a lab fleet:

1. the inventory (seeded with the chom CLI) opens from the cache;
2. add a lab server in the wizard and accept its host key fingerprint;
3. probe all and see statuses and numbers appear; a server's charts;
4. run `hostname` on three servers and read each output;
5. a host restarted with a new host key raises the blocking warning;
6. the lab stops: the inventory is still listed, marked stale;
7. jobs and the audit log list what happened;
8. a site on a lab web host (nginx in its own namespaces): created from a
   folder with live steps, release 2 deployed, a release failing its health
   check refused while release 2 keeps serving, and a rollback;
9. the app killed mid-deploy: relaunched, it shows the job interrupted,
   what the server serves, and the job's log up to the kill; Resume runs
   the deploy again and its release goes live.

Each step saves a screenshot under OUT. Usage: journey.py BIN_DIR OUT_DIR"""
import json
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time

from selenium.webdriver.common.by import By
from selenium.webdriver.support.ui import WebDriverWait

from harness import App, Cli, check
from import_step import agent_keys, import_ssh_config, jump_shown
from rotate_step import rotate_key

BIN, OUT = os.path.abspath(sys.argv[1]), os.path.abspath(sys.argv[2])
work = tempfile.mkdtemp(prefix="chom-e2e-")
os.chmod(work, 0o755)
data, lab, web = os.path.join(work, "data"), os.path.join(work, "lab"), os.path.join(work, "web")
steps = []
chom = Cli(BIN, data)


def shot(driver, name):
    time.sleep(0.5)  # a WebDriver screenshot can show the previous frame
    driver.save_screenshot(os.path.join(OUT, f"{len(steps) + 1:02d}-{name}.png"))
    steps.append(name)
    print(f"  step {len(steps)}: {name}", flush=True)


def site_page(host, addr="198.18.91.2"):
    """The page nginx on the lab web host serves for `host`."""
    out = subprocess.run(["curl", "-s", "--max-time", "10", "-H", f"Host: {host}", f"http://{addr}/"], capture_output=True, text=True)
    return out.stdout


def release_folder(name, marker):
    folder = os.path.join(work, name)
    os.makedirs(folder, exist_ok=True)
    with open(os.path.join(folder, "index.html"), "w") as f:
        f.write(f"<!doctype html><h1>{marker}</h1>\n")
    return folder


def row_cells(driver, name):
    return [c.text for c in driver.find_elements(By.CSS_SELECTOR, f'tr[data-server="{name}"] td')]


app = None
try:
    key = chom("key", "generate", "e2e")
    subprocess.run([f"{BIN}/chom-lab", "up", "--hosts", "4", "--subnet", "90", "--dir", lab], check=True, stdout=subprocess.DEVNULL)
    subprocess.run([f"{BIN}/chom-lab", "authorize", "--dir", lab, "--key", key["public_key"]], check=True)
    hosts = json.load(open(os.path.join(lab, "lab.json")))["hosts"]
    for h in hosts[:3]:
        chom("server", "add", h["name"], "--host", h["addr"], "--user", "chomlab", "--key", "e2e", "--tag", "lab", "--group", "acme")
        chom("server", "trust", h["name"], "--accept", h["host_key_fingerprint"])

    app = App(BIN, data)
    driver = app.launch()
    wait, css, fill = app.wait(), app.css, app.fill

    def choose_path(testid, path, title):
        """Picks `path` in the OS's file chooser that the field's Browse
        button opens (GTK, outside the webview: driven with xdotool). The
        field first holds the folder above, where the chooser opens."""
        fill(testid, os.path.dirname(path))
        css(f"[data-testid={testid}-browse]").click()
        found = subprocess.run(["xdotool", "search", "--sync", "--onlyvisible", "--name", title],
                               capture_output=True, text=True, timeout=20)
        chooser = found.stdout.split()[0]
        # No window manager: keys go to the window under the pointer.
        subprocess.run(["xdotool", "mousemove", "--window", chooser, "500", "400"], check=True)
        time.sleep(1.0)
        # The name, in the location field (Ctrl-L): GTK completes it inline
        # as it is typed, so no other entry there may start with the whole name.
        subprocess.run(["xdotool", "key", "ctrl+l"], check=True)
        subprocess.run(["xdotool", "type", "--delay", "80", os.path.basename(path)], check=True)
        time.sleep(0.5)
        subprocess.run(["import", "-window", "root", os.path.join(OUT, f"{len(steps) + 1:02d}a-file-chooser.png")], check=True)
        subprocess.run(["xdotool", "key", "Return"], check=True)
        wait.until(lambda d: css(f"[data-testid={testid}]").get_attribute("value") == path)
    try:
        # 1. The cached inventory, before any network.
        wait.until(lambda d: len(d.find_elements(By.CSS_SELECTOR, "tbody tr[data-server]")) == 3)
        check(driver.title == "CHOM", f"title {driver.title!r}")
        check(row_cells(driver, hosts[0]["name"])[5] == "unknown", row_cells(driver, hosts[0]["name"]))
        shot(driver, "inventory-from-cache")

        # 2. Add the fourth lab host in the wizard; accept its fingerprint.
        new = hosts[3]
        css("[data-testid=add-server]").click()
        css("[data-testid=f-name]").send_keys(new["name"])
        css("[data-testid=f-host]").send_keys(new["addr"])
        fill("f-user", "chomlab")
        css("[data-testid=f-tags]").send_keys("lab, new")
        css("[data-testid=add-form] button[type=submit]").click()
        fp = wait.until(lambda d: d.find_elements(By.CSS_SELECTOR, "[data-testid=fingerprint]"))[0]
        check(new["host_key_fingerprint"] in fp.text, f"wizard shows {fp.text!r}, lab has {new['host_key_fingerprint']}")
        shot(driver, "add-server-fingerprint")
        css("[data-testid=accept-key]").click()
        done = wait.until(lambda d: d.find_elements(By.CSS_SELECTOR, "[data-testid=add-done]:enabled"))[0]
        check("worked" in css(".modal").text, css(".modal").text)
        shot(driver, "add-server-probed")
        done.click()
        detail = chom("server", "show", new["name"])
        check(detail["host_key"]["fingerprint"] == new["host_key_fingerprint"], detail)

        # 3. Probe all: statuses and numbers fill in.
        css("[data-testid=probe]").click()
        wait.until(lambda d: all(row_cells(d, h["name"])[5] == "up" and row_cells(d, h["name"])[7] for h in hosts))
        for h in hosts:
            cells = row_cells(driver, h["name"])
            check(cells[9].endswith("%") and cells[8].endswith("%"), f"numbers for {h['name']}: {cells}")
        shot(driver, "probed-all")

        # The added server has two probes by now: its details draw charts.
        css(f'tr[data-server="{new["name"]}"] button.link').click()
        wait.until(lambda d: len(d.find_elements(By.CSS_SELECTOR, "[data-testid=charts] canvas")) == 3)
        check(new["host_key_fingerprint"] in css(".modal").text, "details show the pinned fingerprint")
        shot(driver, "server-details-charts")
        check(len(driver.find_elements(By.CSS_SELECTOR, "[data-testid=recent-jobs] tr")) == 2, "two probes listed")
        css("[data-testid=edit]").click()
        # The form opens once the keys are listed (a keyring call).
        group_input = "[data-testid=edit-form] input[placeholder='empty removes it']"
        wait.until(lambda d: d.find_elements(By.CSS_SELECTOR, group_input))
        group = css(group_input)
        group.clear()
        group.send_keys("edited")
        css("[data-testid=edit-form] button[type=submit]").click()
        wait.until(lambda d: row_cells(d, new["name"])[3] == "edited")
        css("body").send_keys("\ue00c")  # Escape closes a non-blocking dialog
        wait.until(lambda d: not d.find_elements(By.CSS_SELECTOR, ".modal"))

        # 4. Run `hostname` on three selected servers; each shows its own name.
        for h in hosts[:3]:
            css(f'tr[data-server="{h["name"]}"] input[type=checkbox]').click()
        css("[data-testid=run-open]").click()
        css("[data-testid=run-command]").send_keys("hostname")
        css("[data-testid=run-start]").click()
        wait.until(lambda d: d.find_elements(By.CSS_SELECTOR, "[data-testid=run-summary]"))
        for h in hosts[:3]:
            section = css(f'.output[data-server="{h["name"]}"]')
            check(section.find_element(By.TAG_NAME, "pre").text.strip() == h["name"], section.text)
            check("exit 0" in section.find_element(By.CSS_SELECTOR, "[data-testid=run-status]").text, section.text)
        check("3 ok, 0 failed" in css("[data-testid=run-summary]").text, css("[data-testid=run-summary]").text)
        shot(driver, "run-hostname")
        driver.find_element(By.XPATH, "//button[text()='Close']").click()

        # 5. A host comes back with a new key: a blocking warning.
        changed = hosts[1]
        rekey = subprocess.run([f"{BIN}/chom-lab", "rekey", "--dir", lab, "--index", "1"], capture_output=True, text=True, check=True)
        new_fp = rekey.stdout.split()[2]
        css(f'tr[data-server="{changed["name"]}"] input[type=checkbox]').click()  # unselect before probing all
        for h in (hosts[0], hosts[2]):
            css(f'tr[data-server="{h["name"]}"] input[type=checkbox]').click()
        css("[data-testid=probe]").click()
        alert = wait.until(lambda d: d.find_elements(By.CSS_SELECTOR, "[data-testid=hostkey-alert]"))[0]
        wait.until(lambda d: new_fp in css("[data-testid=hk-offered]").text)
        check(changed["host_key_fingerprint"] in css("[data-testid=hk-pinned]").text, alert.text)
        check(css("[role=alertdialog]") is not None, "the warning is a blocking dialog")
        css("body").send_keys("\ue00c")  # Escape does not dismiss it
        check(driver.find_elements(By.CSS_SELECTOR, "[data-testid=hostkey-alert]"), "Escape dismissed the warning")
        shot(driver, "host-key-changed")
        css("[data-testid=hk-keep]").click()
        check(row_cells(driver, changed["name"])[5] == "host key changed", row_cells(driver, changed["name"]))
        # Whichever job meets the changed key raises the same alert (an app
        # event): here a command run on that server alone.
        css(f'tr[data-server="{changed["name"]}"] input[type=checkbox]').click()
        css("[data-testid=run-open]").click()
        css("[data-testid=run-command]").send_keys("hostname")
        css("[data-testid=run-start]").click()
        wait.until(lambda d: d.find_elements(By.CSS_SELECTOR, "[data-testid=hostkey-alert]"))
        wait.until(lambda d: new_fp in css("[data-testid=hk-offered]").text)
        shot(driver, "host-key-changed-from-run")
        css("[data-testid=hk-keep]").click()
        wait.until(lambda d: "0 ok, 1 failed" in css("[data-testid=run-summary]").text)
        driver.find_element(By.XPATH, "//button[text()='Close']").click()
        css(f'tr[data-server="{changed["name"]}"] input[type=checkbox]').click()

        # 6. The lab goes away: the inventory stays, marked stale.
        subprocess.run([f"{BIN}/chom-lab", "down", "--dir", lab], check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        css("[data-testid=probe]").click()
        wait.until(lambda d: all(row_cells(d, h["name"])[5] in ("down", "host key changed") for h in hosts))
        stale = css("[data-testid=stale]").text
        check("Offline view" in stale and "4 of 4" in stale, stale)
        check(len(driver.find_elements(By.CSS_SELECTOR, "tbody tr[data-server]")) == 4, "inventory still listed")
        offline = row_cells(driver, hosts[0]["name"])
        check(offline[6].endswith("ago") and offline[9].endswith("%"), f"last known figures kept: {offline}")
        shot(driver, "offline-stale")

        # Every action above is a job and an audit row, readable offline.
        css("[data-testid=tab-jobs]").click()
        jobs = wait.until(lambda d: d.find_elements(By.CSS_SELECTOR, "[data-testid=jobs] tbody tr"))
        check(len(jobs) >= 5, f"{len(jobs)} jobs")
        check("failed" in jobs[0].text and "Retry failed" in jobs[0].text, jobs[0].text)
        shot(driver, "jobs")
        css("[data-testid=tab-audit]").click()
        audit = wait.until(lambda d: d.find_elements(By.CSS_SELECTOR, "[data-testid=audit] tbody tr"))
        check(any("trust.accept" in r.text and new["name"] in r.text for r in audit), "the wizard's trust is audited")
        shot(driver, "audit")

        # 8. Sites, on a lab web host added with the CLI.
        pub = os.path.join(work, "e2e.pub")
        with open(pub, "w") as f:
            f.write(key["public_key"] + "\n")
        up = subprocess.run([f"{BIN}/chom-lab", "web-up", "--hosts", "1", "--first", "91", "--root-key", pub, "--pebble", "--dir", web],
                            check=True, stdout=subprocess.PIPE, text=True).stdout
        pebble_ca = next(line.split()[2] for line in up.splitlines() if line.startswith("pebble "))
        chom("server", "add", "web", "--host", "198.18.91.2", "--user", "root", "--key", "e2e")
        chom("server", "trust", "web", "--trust-on-first-use")
        # The web host set up for sites from its page: stack, firewall, SSH
        # hardening proven by a fresh login, deploy user.
        css("[data-testid=tab-fleet]").click()
        css("[data-testid=probe]").click()
        wait.until(lambda d: d.find_elements(By.CSS_SELECTOR, 'tr[data-server="web"]') and row_cells(d, "web")[5] == "up")
        css('tr[data-server="web"] button.link').click()
        # The details load before their buttons show.
        wait.until(lambda d: d.find_elements(By.CSS_SELECTOR, "[data-testid=setup]"))[0].click()
        result = WebDriverWait(driver, 120).until(
            lambda d: d.find_elements(By.CSS_SELECTOR, ".modal [data-testid=job-result], .modal [data-testid=job-error]"))[0]
        check(result.text.startswith("Set up:") and "fresh SSH login" in result.text, result.text)
        wait.until(lambda d: "setup" in css("[data-testid=recent-jobs]").text)
        log_text = css(".modal").text
        check("ufw" in log_text and "sshd" in log_text and "deploy" in log_text, log_text)
        shot(driver, "server-set-up")
        css("body").send_keys("\ue00c")
        wait.until(lambda d: not d.find_elements(By.CSS_SELECTOR, ".modal"))

        r1, r2, bad = release_folder("r1", "Release one"), release_folder("r2", "Release two"), release_folder("bad", "Broken")
        css("[data-testid=tab-sites]").click()
        wait.until(lambda d: d.find_elements(By.CSS_SELECTOR, "[data-testid=sites-empty]"))
        css("[data-testid=new-site]").click()
        css("[data-testid=s-domain]").send_keys("shop.e2e.test")
        wait.until(lambda d: d.find_elements(By.CSS_SELECTOR, "[data-testid=s-server] option[value=web]"))
        css("[data-testid=s-server] option[value=web]").click()
        choose_path("s-folder", r1, "Folder to deploy")
        css("[data-testid=s-expect]").send_keys("Release one")
        css("[data-testid=site-create]").click()
        result = wait.until(lambda d: d.find_elements(By.CSS_SELECTOR, "[data-testid=job-result], [data-testid=job-error]"))[0]
        check("is live" in result.text, result.text)
        steps_text = css("[data-testid=steps]").text
        check(all(s in steps_text for s in ("upload", "health", "switch")), steps_text)
        check("Release one" in site_page("shop.e2e.test"), site_page("shop.e2e.test"))
        shot(driver, "site-created")
        css("[data-testid=site-done]").click()
        wait.until(lambda d: d.find_elements(By.CSS_SELECTOR, 'tr[data-site="shop.e2e.test"]'))

        # Release 2, then a release that fails its health check.
        css('tr[data-site="shop.e2e.test"] button.link').click()
        wait.until(lambda d: d.find_elements(By.CSS_SELECTOR, "[data-testid=releases] tr"))
        css("[data-testid=d-folder]").send_keys(r2)
        css("[data-testid=d-expect]").send_keys("Release two")
        css("[data-testid=d-start]").click()
        wait.until(lambda d: "is live" in (d.find_elements(By.CSS_SELECTOR, "[data-testid=job-result]") or [None])[0].text
                   if d.find_elements(By.CSS_SELECTOR, "[data-testid=job-result]") else False)
        check("Release two" in site_page("shop.e2e.test"), site_page("shop.e2e.test"))
        live2 = wait.until(lambda d: d.find_element(By.CSS_SELECTOR, "[data-testid=live-release]").text)
        shot(driver, "site-release-2")
        fill("d-folder", bad)
        css("[data-testid=d-start]").click()
        err = wait.until(lambda d: d.find_elements(By.CSS_SELECTOR, "[data-testid=job-error]"))[0]
        check("failed its health check" in err.text and "keeps serving" in err.text, err.text)
        check("Release two" in site_page("shop.e2e.test"), "the failed release went live")
        wait.until(lambda d: "failed at health" in css("[data-testid=deploys]").text)
        shot(driver, "site-health-check-failed")

        # Roll back: release 1 serves again.
        css("[data-testid=rollback]").click()
        wait.until(lambda d: css("[data-testid=live-release]").text not in ("", live2))
        check("Release one" in site_page("shop.e2e.test"), site_page("shop.e2e.test"))
        shot(driver, "site-rolled-back")

        # A release from a git repository, which the server fetches (git
        # daemon on this machine's end of the host's veth).
        repos = os.path.join(work, "git")
        repo = os.path.join(repos, "site.git")
        os.makedirs(repo)
        with open(os.path.join(repo, "index.html"), "w") as f:
            f.write("<!doctype html><h1>Release from git</h1>\n")
        for args in (["init", "-q", "-b", "main"], ["add", "-A"], ["-c", "user.name=e2e", "-c", "user.email=e2e@example.test", "commit", "-qm", "from git"]):
            subprocess.run(["git", "-C", repo, *args], check=True)
        daemon = subprocess.Popen(["git", "daemon", "--reuseaddr", "--export-all", "--listen=198.18.91.1", "--port=9418",
                                   f"--base-path={repos}", repos], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True)
        try:
            time.sleep(0.5)
            css("[data-testid=d-from] option[value=git]").click()
            css("[data-testid=d-git-url]").send_keys("git://198.18.91.1/site.git")
            check(css("[data-testid=d-git-ref]").get_attribute("value") == "main", "the ref defaults to main")
            fill("d-expect", "Release from git")
            css("[data-testid=d-start]").click()
            result = wait.until(lambda d: [e for e in d.find_elements(By.CSS_SELECTOR, "[data-testid=job-result], [data-testid=job-error]")
                                           if "Release" in e.text or e.get_attribute("data-testid") == "job-error"])[0]
            check("is live" in result.text, result.text)
        finally:
            os.killpg(daemon.pid, signal.SIGTERM)
            daemon.wait()
        check("Release from git" in site_page("shop.e2e.test"), site_page("shop.e2e.test"))
        shot(driver, "site-from-git")

        # A deploy cancelled mid-upload: the live release keeps serving, and
        # the script on the server ends although the app's pooled connection
        # stays open (its channel is closed), so the next deploy is not locked out.
        big = release_folder("big", "Big release")
        for i in range(4):
            with open(os.path.join(big, f"blob{i}.bin"), "wb") as f:
                f.write(os.urandom(32 << 20))
        css("[data-testid=d-from] option[value=folder]").click()
        fill("d-folder", big)
        fill("d-expect", "")
        css("[data-testid=d-start]").click()
        wait.until(lambda d: d.find_elements(By.CSS_SELECTOR, "[data-testid=upload-progress]"))
        css("[data-testid=job-cancel]").click()
        err = wait.until(lambda d: d.find_elements(By.CSS_SELECTOR, "[data-testid=job-error]"))[0]
        check("cancelled during step" in err.text and "keeps serving" in err.text, err.text)
        check("Release from git" in site_page("shop.e2e.test"), "the cancelled release went live")
        wait.until(lambda d: "cancelled at" in css("[data-testid=deploys]").text)
        shot(driver, "site-deploy-cancelled")
        deadline = time.time() + 20
        while subprocess.run(["pgrep", "-f", "[c]hom-deploy"], stdout=subprocess.DEVNULL).returncode == 0:
            check(time.time() < deadline, "the deploy script on the server outlived its cancel")
            time.sleep(0.1)
        shutil.rmtree(big)

        # A certificate from the lab's ACME server (pebble): HTTPS serves the live release.
        subprocess.run([f"{BIN}/chom-lab", "pebble-a", "--dir", web, "--domain", "shop.e2e.test"], check=True)
        css("[data-testid=ssl-acme-url]").send_keys("https://198.18.255.1:14000/dir")
        css("[data-testid=ssl-acme-ca]").send_keys(pebble_ca)
        css("[data-testid=ssl-issue]").click()
        issued = lambda d: [e for e in d.find_elements(By.CSS_SELECTOR, "[data-testid=job-result], [data-testid=job-error]")
                            if "Certificate" in e.text or e.get_attribute("data-testid") == "job-error"]
        result = wait.until(issued)[0]
        check("Certificate issued" in result.text, result.text)
        wait.until(lambda d: "days left" in css("[data-testid=https-days]").text)
        https = subprocess.run(["curl", "-sk", "--max-time", "10", "--resolve", "shop.e2e.test:443:198.18.91.2", "https://shop.e2e.test/"],
                               capture_output=True, text=True).stdout
        check("Release from git" in https, https)
        shot(driver, "site-certificate")

        # The site as an earlier CHOM left it (its base and releases the
        # site user's own): Repair brings it to root's layout, and it serves on.
        chom("run", "web", "--", "chown -R w_shop_e2e_test: /var/www/shop.e2e.test/releases && chown w_shop_e2e_test: /var/www/shop.e2e.test")
        repair = css("[data-testid=repair]")
        driver.execute_script("arguments[0].scrollIntoView({block: 'center'})", repair)
        repair.click()
        repaired = lambda d: [e for e in d.find_elements(By.CSS_SELECTOR, "[data-testid=job-result], [data-testid=job-error]")
                              if "epair" in e.text or e.get_attribute("data-testid") == "job-error"]
        result = wait.until(repaired)[0]
        check(result.text.startswith("Repaired:") and "brought to CHOM's layout" in result.text, result.text)
        owners = chom("run", "web", "--", "stat -c %U /var/www/shop.e2e.test /var/www/shop.e2e.test/current/index.html")
        check(owners["results"][0]["stdout"].split() == ["root", "root"], owners)
        https = subprocess.run(["curl", "-sk", "--max-time", "10", "--resolve", "shop.e2e.test:443:198.18.91.2", "https://shop.e2e.test/"],
                               capture_output=True, text=True).stdout
        check("Release from git" in https, https)
        driver.execute_script("arguments[0].scrollIntoView({block: 'center'})", result)
        shot(driver, "site-repaired")

        # Back up now, then check the server's backups: the row says "not
        # checked yet", then "good"; the CLI reads the same from the cache.
        check(css("[data-testid=no-backups]").is_displayed(), "a new site lists no backup")
        create = css("[data-testid=backup-create]")
        driver.execute_script("arguments[0].scrollIntoView({block: 'center'})", create)
        create.click()
        backed = lambda d: [e for e in d.find_elements(By.CSS_SELECTOR, "[data-testid=job-result], [data-testid=job-error]")
                            if e.text.startswith("Backup") or e.get_attribute("data-testid") == "job-error"]
        result = wait.until(backed)[0]
        check(result.text.startswith("Backup ") and "files" in result.text, result.text)
        wait.until(lambda d: "not checked yet" in css("[data-testid=backups] tbody tr").text)
        css("[data-testid=backup-check]").click()
        wait.until(lambda d: "good" in css("[data-testid=backups] tbody tr").text)
        listed = chom("backup", "list", "shop.e2e.test")
        check(len(listed) == 1 and listed[0]["good"] and listed[0]["release"], listed)
        table = css("[data-testid=backups]")
        driver.execute_script("arguments[0].scrollIntoView({block: 'center'})", table)
        shot(driver, "site-backed-up")

        # Restore that backup into the site (confirmed first): a new release
        # with the same pages goes live; Undo restore switches back to the
        # release that served before.
        before = chom("site", "show", "shop.e2e.test")["site"]["current_release"]
        restore = css("[data-testid=backup-restore]")
        driver.execute_script("arguments[0].scrollIntoView({block: 'center'})", restore)
        restore.click()
        confirm = css("[data-testid=restore-confirm]")
        driver.execute_script("arguments[0].scrollIntoView({block: 'center'})", confirm)
        shot(driver, "restore-confirm")
        css("[data-testid=restore-go]").click()
        restored = lambda d: [e for e in d.find_elements(By.CSS_SELECTOR, "[data-testid=job-result], [data-testid=job-error]")
                              if e.text.startswith("Restored") or e.get_attribute("data-testid") == "job-error"]
        result = wait.until(restored)[0]
        check(result.text.startswith("Restored from backup") and f"(was {before})" in result.text, result.text)
        after = chom("site", "show", "shop.e2e.test")["site"]["current_release"]
        check(after != before and after in result.text, (before, after, result.text))
        https = subprocess.run(["curl", "-sk", "--max-time", "10", "--resolve", "shop.e2e.test:443:198.18.91.2", "https://shop.e2e.test/"],
                               capture_output=True, text=True).stdout
        check("Release from git" in https, https)
        driver.execute_script("arguments[0].scrollIntoView({block: 'center'})", result)
        shot(driver, "site-restored")
        undo = css("[data-testid=restore-undo]")
        driver.execute_script("arguments[0].scrollIntoView({block: 'center'})", undo)
        undo.click()
        undone = lambda d: [e for e in d.find_elements(By.CSS_SELECTOR, "[data-testid=job-result], [data-testid=job-error]")
                            if e.text.startswith("Switched back") or e.get_attribute("data-testid") == "job-error"]
        result = wait.until(undone)[0]
        check(result.text.startswith("Switched back") and f"release {before} is live" in result.text, result.text)
        check(chom("site", "show", "shop.e2e.test")["site"]["current_release"] == before, "the cache says what serves")

        # One file of the backup through the wizard: it lands beside the
        # site's own (shared/restored/ID), the live release untouched.
        restore = css("[data-testid=backup-restore]")
        driver.execute_script("arguments[0].scrollIntoView({block: 'center'})", restore)
        restore.click()
        css("[data-testid=restore-mode-path]").click()
        fill("restore-path", "current/index.html")
        confirm = css("[data-testid=restore-confirm]")
        driver.execute_script("arguments[0].scrollIntoView({block: 'center'})", confirm)
        shot(driver, "restore-wizard-file")
        css("[data-testid=restore-go]").click()
        backup_id = listed[0]["id"]
        placed = lambda d: [e for e in d.find_elements(By.CSS_SELECTOR, "[data-testid=job-result], [data-testid=job-error]")
                            if e.text.startswith("current/index.html") or e.get_attribute("data-testid") == "job-error"]
        result = wait.until(placed)[0]
        check(f"in shared/restored/{backup_id}/index.html of shop.e2e.test" in result.text, result.text)
        check(chom("site", "show", "shop.e2e.test")["site"]["current_release"] == before, "the live release stays")
        close = css("[data-testid=site-close]")
        driver.execute_script("arguments[0].scrollIntoView({block: 'center'})", close)
        close.click()
        wait.until(lambda d: "d left" in css('tr[data-site="shop.e2e.test"] td:last-child').text)
        shot(driver, "sites-with-https")

        # The Backups view: the site is covered (a good backup younger than
        # its policy), as the CLI's overview says from the same cache.
        css("[data-testid=tab-backups]").click()
        row = wait.until(lambda d: d.find_elements(By.CSS_SELECTOR, '[data-testid=backups-overview] tr[data-site="shop.e2e.test"]'))[0]
        check("covered" in row.text and "ago" in row.text, row.text)
        overview = chom("backup", "overview")
        check(overview[0]["coverage"] == "covered" and overview[0]["last_good"], overview)
        check("1 of 1 sites" in css("[data-testid=backups-summary]").text, css("[data-testid=backups-summary]").text)
        shot(driver, "backups-overview")
        import_ssh_config(app, driver, work, hosts[0], chom, shot, check)
        agent_keys(app, driver, shot, check)
        rotate_key(app, driver, chom, shot, check)
        jump_shown(app, driver, chom, shot, check)
        css("[data-testid=tab-sites]").click()
        wait.until(lambda d: d.find_elements(By.CSS_SELECTOR, 'tr[data-site="shop.e2e.test"]'))

        # The app killed (SIGKILL) mid-deploy: at the next launch the job is
        # interrupted and set against the server (what serves, no lock left),
        # and its log up to the kill is there to read.
        big = release_folder("big2", "Big release")
        for i in range(4):
            with open(os.path.join(big, f"blob{i}.bin"), "wb") as f:
                f.write(os.urandom(32 << 20))
        css('tr[data-site="shop.e2e.test"] button.link').click()
        wait.until(lambda d: d.find_elements(By.CSS_SELECTOR, "[data-testid=releases] tr"))
        fill("d-folder", big)
        css("[data-testid=d-start]").click()
        wait.until(lambda d: d.find_elements(By.CSS_SELECTOR, "[data-testid=upload-progress]"))
        app.kill()
        deadline = time.time() + 20
        while subprocess.run(["pgrep", "-f", "[c]hom-deploy"], stdout=subprocess.DEVNULL).returncode == 0:
            check(time.time() < deadline, "the deploy script on the server outlived the app")
            time.sleep(0.2)
        https = subprocess.run(["curl", "-sk", "--max-time", "10", "--resolve", "shop.e2e.test:443:198.18.91.2", "https://shop.e2e.test/"],
                               capture_output=True, text=True).stdout
        check("Release from git" in https, f"the interrupted release went live: {https}")
        driver = app.launch()
        wait = app.wait()
        banner = wait.until(lambda d: d.find_elements(By.CSS_SELECTOR, "[data-testid=reconciled]"))[0]
        check("(deploy shop.e2e.test)" in banner.text and "keeps serving" in banner.text and "no lock left" in banner.text, banner.text)
        shot(driver, "relaunch-after-kill")
        banner.find_element(By.XPATH, ".//button[text()='Show jobs']").click()
        rows = wait.until(lambda d: d.find_elements(By.CSS_SELECTOR, "[data-testid=jobs] tbody tr"))
        check("interrupted" in rows[0].text and "keeps serving" in rows[0].text, rows[0].text)
        rows[0].find_element(By.CSS_SELECTOR, "button.link").click()
        log = wait.until(lambda d: [e for e in d.find_elements(By.CSS_SELECTOR, "[data-testid=job-log]") if "upload" in e.text])[0]
        check("▸ upload" in log.text, log.text)
        check("keeps serving" in css("[data-testid=job-reconciled]").text, css("[data-testid=job-reconciled]").text)
        driver.execute_script("arguments[0].scrollIntoView({block: 'start'})", css("[data-testid=job-detail]"))
        shot(driver, "interrupted-job-log")
        # Resume: the same deploy runs again, and its release goes live.
        css("[data-testid=job-resume]").click()
        result = wait.until(lambda d: d.find_elements(By.CSS_SELECTOR, "[data-testid=job-detail] [data-testid=job-result], [data-testid=job-detail] [data-testid=job-error]"))[0]
        check(result.text.startswith("Resumed as job") and "is live" in result.text, result.text)
        https = subprocess.run(["curl", "-sk", "--max-time", "10", "--resolve", "shop.e2e.test:443:198.18.91.2", "https://shop.e2e.test/"],
                               capture_output=True, text=True).stdout
        check("Big release" in https, https)
        # The Jobs list heard of the new job (an app event) without a reload.
        new_job = result.text.split("Resumed as job ")[1].split(":")[0]
        wait.until(lambda d: d.find_elements(By.CSS_SELECTOR, f"[data-testid=job-open-{new_job}]"))
        shot(driver, "interrupted-job-resumed")
        shutil.rmtree(big)
        print(f"app journey: {len(steps)} steps; screenshots in {OUT}")
        print("1 passed, 0 failed")
    finally:
        driver.quit()
finally:
    if app:
        app.close()
    subprocess.run([f"{BIN}/chom-lab", "down", "--dir", lab], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    subprocess.run([f"{BIN}/chom-lab", "web-down", "--dir", web], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    shutil.rmtree(work, ignore_errors=True)
