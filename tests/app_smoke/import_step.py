"""The Import view, as an operator brings servers from an ssh config:
the preview lists what would be added and skipped (with the reason), and
nothing changes until Apply; then the server is in the inventory."""

import os

from selenium.webdriver.common.by import By
from selenium.webdriver.support.ui import Select


def import_ssh_config(app, driver, work, host, chom, shot, check):
    wait, css, fill = app.wait(), app.css, app.fill
    config = os.path.join(work, "ssh_config")
    with open(config, "w") as f:
        f.write(f"Host e2e-imported\n  HostName {host['addr']}\n  User chomlab\n  LocalForward 8080 localhost:80\n"
                "Host e2e-behind\n  HostName 127.90.0.250\n  ProxyJump nobody.example.test\n")
    css("[data-testid=tab-import]").click()
    fill("import-path", config)
    css("[data-testid=import-preview]").click()
    added = wait.until(lambda d: d.find_elements(By.CSS_SELECTOR, '[data-testid=import-plan] tr[data-name="e2e-imported"]'))[0]
    check("add" in added.text and "ignored: LocalForward" in added.text, added.text)
    skipped = css('[data-testid=import-plan] tr[data-name="e2e-behind"]')
    check("skip" in skipped.text and "ProxyJump" in skipped.text, skipped.text)
    check(all(s["name"] != "e2e-imported" for s in chom("server", "list")), "a preview changes nothing")
    shot(driver, "import-preview")
    css("[data-testid=import-apply]").click()
    done = wait.until(lambda d: d.find_elements(By.CSS_SELECTOR, "[data-testid=import-applied]"))[0]
    check("Applied: 1 added" in done.text, done.text)
    check(chom("server", "show", "e2e-imported")["server"]["host"] == host["addr"], "imported as the config says")
    shot(driver, "import-applied")


def agent_keys(app, driver, shot, check):
    """The Keys view says what the operator's ssh-agent holds, or, with no
    agent in the app's session, why it cannot say (not an error)."""
    wait, css = app.wait(), app.css
    css("[data-testid=tab-keys]").click()
    found = wait.until(lambda d: d.find_elements(By.CSS_SELECTOR, "[data-testid=agent-keys], [data-testid=agent-error]"))[0]
    if os.environ.get("SSH_AUTH_SOCK"):
        check(found.get_attribute("data-testid") == "agent-keys", found.text)
    else:
        check("SSH_AUTH_SOCK is not set" in found.text, found.text)
    shot(driver, "keys-agent")



def jump_shown(app, driver, chom, shot, check):
    """A jump host set in a server's edit form: the Fleet table says the
    server is reached through it, and the cache has it."""
    wait, css = app.wait(), app.css
    css("[data-testid=tab-fleet]").click()
    wait.until(lambda d: d.find_elements(By.CSS_SELECTOR, 'tr[data-server="e2e-imported"] button.link'))[0].click()
    wait.until(lambda d: d.find_elements(By.CSS_SELECTOR, "[data-testid=edit]"))[0].click()
    Select(wait.until(lambda d: d.find_elements(By.CSS_SELECTOR, "[data-testid=e-jump]"))[0]).select_by_value("web")
    css("[data-testid=edit-form] button[type=submit]").click()
    wait.until(lambda d: "through web" in css(".modal .facts").text)
    check(chom("server", "show", "e2e-imported")["server"]["jump"] == "web", "the cache has the jump host")
    driver.find_element(By.XPATH, "//div[@class='modal']//button[text()='Close']").click()
    via = wait.until(lambda d: d.find_elements(By.CSS_SELECTOR, 'tr[data-server="e2e-imported"] [data-testid=via]'))[0]
    check(via.text == "via web", via.text)
    shot(driver, "fleet-via-jump-host")
