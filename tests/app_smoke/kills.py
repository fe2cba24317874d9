"""The real app killed (SIGKILL) at random moments, CHOM_APP_KILLS times
each (20 unless told), mid-deploy, mid-setup and mid-probe, on a lab web
host. At each next launch the app reconciles what the killed one left: an
interrupted deploy names the release the server serves (and the cache
says the same) and that no lock is left; an interrupted setup says the
server's services and that setup is safe to run again; a probe is
interrupted or done, its history whole. Every step and line the app
showed before the kill is in the job's stored log, and the database
passes PRAGMA integrity_check. Then the app and two CLI processes deploy
one site at the same moment: exactly one runs, the others name it.

The kill moments come from a printed seed (CHOM_KILL_SEED replays them).
Usage: kills.py BIN_DIR OUT_DIR"""
import os
import random
import shutil
import subprocess
import sys
import tempfile
import threading
import time

from selenium.common.exceptions import TimeoutException

from harness import App, Cli, check

BIN, OUT = os.path.abspath(sys.argv[1]), os.path.abspath(sys.argv[2])
KILLS = int(os.environ.get("CHOM_APP_KILLS", "20"))
SEED = int(os.environ.get("CHOM_KILL_SEED") or time.time_ns())
DOMAIN = "kills.e2e.test"
ADDR = "198.18.92.2"
print(f"app kills: {KILLS} each; kill moments from CHOM_KILL_SEED={SEED}", flush=True)
dice = random.Random(SEED)

work = tempfile.mkdtemp(prefix="chom-e2e-kills-")
os.chmod(work, 0o755)
data, web = os.path.join(work, "data"), os.path.join(work, "web")
cli = Cli(BIN, data)
site_base = os.path.join(web, "chomw92", "var", "www", DOMAIN)

SHOWN = """return [[...document.querySelectorAll('[data-testid=steps] li')].map(e => e.textContent),
                   (document.querySelector('[data-testid=joblog] pre.lines') || {textContent: ''}).textContent]"""


def static_site(name, marker, files):
    folder = os.path.join(work, name)
    os.makedirs(folder, exist_ok=True)
    with open(os.path.join(folder, "index.html"), "w") as f:
        f.write(f"<!doctype html><h1>{marker}</h1>\n")
    for i in range(files):
        with open(os.path.join(folder, f"page{i}.html"), "w") as f:
            f.write(f"<p>{marker} {i}</p>\n" * 200)
    return folder


def serving():
    return os.readlink(os.path.join(site_base, "current")).removeprefix("releases/")


def until(what, seconds, cond):
    deadline = time.time() + seconds
    while not cond():
        check(time.time() < deadline, f"{what} after {seconds} s")
        time.sleep(0.1)


def no_process(pattern):
    return subprocess.run(["pgrep", "-f", pattern], stdout=subprocess.DEVNULL).returncode != 0


def lock_free():
    return subprocess.run(["flock", "-n", os.path.join(site_base, ".chom", "lock"), "true"]).returncode == 0


def launched(app):
    app.launch()
    app.wait().until(lambda d: app.all('tbody tr[data-server="web"]'))


def open_site(app):
    app.css("[data-testid=tab-sites]").click()
    app.wait().until(lambda d: app.all(f'tr[data-site="{DOMAIN}"] button.link'))[0].click()
    app.wait().until(lambda d: app.all("[data-testid=releases] tr"))


def open_server(app):
    app.css("[data-testid=tab-fleet]").click()
    app.wait().until(lambda d: app.all('tr[data-server="web"] button.link'))[0].click()
    button = app.wait().until(lambda d: app.all("[data-testid=setup]:enabled"))[0]
    # Below the server's recent jobs: scrolled into view to be clicked.
    app.driver.execute_script("arguments[0].scrollIntoView({block: 'center'})", button)
    return button


def shown_is_logged(job_id, steps, lines):
    """What the app showed before it died is in the job's stored log."""
    log = cli("jobs", str(job_id))["log"]
    logged_steps = [entry["line"] for entry in log if entry["kind"] == "step"]
    check(logged_steps[:len(steps)] == steps, f"job {job_id}: shown {steps}, logged {logged_steps}")
    logged_lines = {entry["line"] for entry in log if entry["kind"] in ("out", "err", "note")}
    for line in filter(None, lines.split("\n")):
        check(line.removeprefix("! ") in logged_lines, f"job {job_id}: shown {line!r} is not in the log")


def banner_for(app, job_id, kind, target):
    """The line of the relaunched app's reconciliation banner about the job."""
    head = f"Job {job_id} ({kind} {target}): "
    try:
        found = app.wait(60).until(lambda d: [li.text for li in app.all("[data-testid=reconciled] li") if li.text.startswith(head)])
    except TimeoutException:
        # Say what the app showed instead, and what the database holds.
        app.driver.save_screenshot(os.path.join(OUT, f"kills-no-banner-{job_id}.png"))
        shown = [e.text for e in app.all("[data-testid=reconciled], [role=alert]")]
        raise AssertionError(f"no banner line for job {job_id}; the app shows {shown}; the job is {cli.job_row(job_id)}")
    return found[0][len(head):]


def verified(app, kind, target, pending, found_ok):
    """The killed job of `kind`: interrupted when it ran at the kill (the
    relaunched app's banner line about it passing `found_ok`), else
    succeeded; what the app showed is in its log. Its outcome, for the record."""
    before, (job_id, job_kind, state), steps, lines, at = pending
    if job_id == before or job_kind != kind:
        return f"{at:.2f}s:before-start"
    if state == "running":
        found_ok(banner_for(app, job_id, kind, target))
    stored = cli("jobs", str(job_id))["job"]["state"]
    check(stored == ("interrupted" if state == "running" else "succeeded"), f"job {job_id} is {stored}")
    shown_is_logged(job_id, steps, lines)
    return f"{at:.2f}s:{stored}"


def kill_loop(app, kind, took, act, verify, settle):
    """KILLS launches: each acts (`act`), is killed after a random moment,
    and the next launch verifies what the killed one left."""
    # `took` was timed once; later runs are often quicker (a redeploy reuses
    # files), so a kill that came after the end narrows the span the next
    # moments are drawn from, keeping most kills mid-job.
    outcomes, pending, span = [], None, took
    for i in range(KILLS + 1):
        launched(app)
        if pending:
            outcomes.append(verify(app, pending))
            check(cli.integrity() == "ok", "the database is damaged")
            if outcomes[-1].endswith("succeeded"):
                span = max(span * 0.8, 0.1)
            elif outcomes[-1].endswith("before-start"):
                span *= 1.25
        if i == KILLS:
            break
        before = cli.newest_job()[0]
        act(app, i)
        at = dice.uniform(0, span)
        time.sleep(at)
        steps, lines = app.driver.execute_script(SHOWN)
        app.kill()
        settle()
        job = cli.newest_job()
        pending = (before, job, steps, lines, at)
    app.driver.quit()
    print(f"{kind} kills: {' '.join(outcomes)}", flush=True)
    check(any(o.endswith("interrupted") for o in outcomes), f"no kill fell mid-{kind}: {outcomes}")


def timed(app, start, done):
    started = time.time()
    start()
    app.wait(300).until(lambda d: done())
    return time.time() - started


app = None
try:
    key = cli("key", "generate", "kills")
    pub = os.path.join(work, "kills.pub")
    with open(pub, "w") as f:
        f.write(key["public_key"] + "\n")
    subprocess.run([f"{BIN}/chom-lab", "web-up", "--hosts", "1", "--first", "92", "--root-key", pub, "--dir", web],
                   check=True, stdout=subprocess.DEVNULL)
    cli("server", "add", "web", "--host", ADDR, "--user", "root", "--key", "kills")
    cli("server", "trust", "web", "--trust-on-first-use")
    cli("server", "setup", "web", timeout=900)
    sources = [static_site("a", "Release A", 40), static_site("b", "Release B", 40)]
    cli("site", "create", DOMAIN, "--kind", "static", "--server", "web", "--from", sources[0])
    app = App(BIN, data)

    # Deploys: a whole one, then kills anywhere from before its job's row to after its end.
    launched(app)
    open_site(app)

    def start_deploy(app, i):
        if i >= 0:
            open_site(app)
        app.fill("d-folder", sources[(i + 1) % 2])
        app.css("[data-testid=d-start]").click()

    took = timed(app, lambda: start_deploy(app, -1), lambda: app.all("[data-testid=job-result]"))
    app.driver.quit()

    def verify_deploy(app, pending):
        now = serving()
        outcome = verified(app, "deploy", DOMAIN, pending, lambda found: check(
            f"release {now} " in found and "no lock left" in found, f"{found} / serving {now}"))
        show = cli("site", "show", DOMAIN)
        check(show["site"]["current_release"] == now, f"cache and server disagree: {show['site']} / {now}")
        check(show["deploys"][0]["state"] != "running", show["deploys"][0])
        return outcome

    def deploy_settled():
        until("the deploy script on the server ended", 20, lambda: no_process("[c]hom-deploy"))
        until("the site's lock free", 20, lock_free)

    kill_loop(app, "deploy", took * 1.5, start_deploy, verify_deploy, deploy_settled)
    check("Release" in subprocess.run(["curl", "-s", "--max-time", "10", "-H", f"Host: {DOMAIN}", f"http://{ADDR}/"],
                                       capture_output=True, text=True).stdout, "the site serves after the kills")

    # Setup: a run on a set-up server takes a few seconds.
    def start_setup(app, i):
        open_server(app).click()

    launched(app)
    took = timed(app, lambda: start_setup(app, -1), lambda: app.all(".modal [data-testid=job-result]"))
    app.driver.quit()

    def verify_setup(app, pending):
        return verified(app, "setup", "web", pending, lambda found: check(
            "setup is safe to run again" in found and "nginx" in found, found))

    kill_loop(app, "setup", took, start_setup, verify_setup,
              lambda: until("the setup script on the server ended", 60, lambda: no_process("[c]hom-setup")))
    cli("server", "setup", "web", timeout=900)

    # Probes: a fraction of a second; the job is interrupted or done, and
    # the probe history holds only whole rows.
    def start_probe(app, i):
        app.css("[data-testid=probe]").click()

    started = time.time()
    cli("probe", "web")
    took = time.time() - started

    def verify_probe(app, pending):
        before, _, _, _, at = pending
        job_id, kind, state = cli.newest_job()
        if job_id == before or kind != "probe":
            return f"{at:.2f}s:before-start"
        check(state in ("succeeded", "interrupted"), f"a killed probe is {state}")
        return f"{at:.2f}s:{state}"

    kill_loop(app, "probe", took * 3, start_probe, verify_probe, lambda: None)
    history = cli("server", "show", "web")["history"]
    check(all(p["ok"] and p["hostname"] and p["load1"] is not None for p in history), history)

    # The app and two CLI processes deploy one site at the same moment:
    # the lease lets exactly one run; the others name its job.
    big = static_site("big", "Big release", 0)
    for i in range(4):
        with open(os.path.join(big, f"blob{i}.bin"), "wb") as f:
            f.write(os.urandom(32 << 20))
    launched(app)
    open_site(app)
    app.fill("d-folder", big)
    before = cli.newest_job()[0]
    gate, ended = threading.Barrier(3), []

    def cli_racer():
        gate.wait()
        ended.append(cli.run("deploy", DOMAIN, "--from", big))

    racers = [threading.Thread(target=cli_racer) for _ in range(2)]
    for r in racers:
        r.start()
    gate.wait()
    app.css("[data-testid=d-start]").click()
    for r in racers:
        r.join()
    outcome = app.wait(300).until(lambda d: app.all("[data-testid=job-result], [data-testid=job-error]"))[0]
    app.driver.save_screenshot(os.path.join(OUT, "kills-race.png"))
    deploys = [j for j in cli("jobs", "--limit", "10") if j["id"] > before and j["kind"] == "deploy"]
    check(len(deploys) == 1, f"one deploy ran: {deploys}")
    holder = f"job {deploys[0]['id']} (deploy) by "
    app_won = outcome.get_attribute("data-testid") == "job-result"
    winners = [o for o in ended if o.returncode == 0] + ([outcome] if app_won else [])
    check(len(winners) == 1, f"app: {outcome.text}; CLIs: {[(o.returncode, o.stderr) for o in ended]}")
    for refused in (o for o in ended if o.returncode != 0):
        check(refused.returncode == 4 and f"site {DOMAIN} is busy: " in refused.stderr and holder in refused.stderr,
              refused.stderr)
    if not app_won:
        check(f"site {DOMAIN} is busy: " in outcome.text and holder in outcome.text, outcome.text)
    print(f"race: the {'app' if app_won else 'CLI'} ran job {deploys[0]['id']}; the two others named it", flush=True)
    app.driver.quit()
    print("1 passed, 0 failed")
finally:
    if app:
        app.close()
    subprocess.run([f"{BIN}/chom-lab", "web-down", "--dir", web], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    shutil.rmtree(work, ignore_errors=True)
