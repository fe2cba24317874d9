"""A key rotated from the Keys view, as an operator replaces a key: the
first run leaves the web host switched but pending (root's old key is also
in /etc/ssh/authorized_keys/root, which the rotation does not touch, and it
says so) and the stopped lab hosts pending; once the operator removed it
there, rotating again finishes the web host. The deploy user that server
setup made gets the new key and loses the old one too."""

from selenium.webdriver.common.by import By
from selenium.webdriver.support.ui import Select, WebDriverWait


def rotate_key(app, driver, chom, shot, check):
    css = app.css
    chom("key", "generate", "e2e-next")
    css("[data-testid=tab-keys]").click()
    WebDriverWait(driver, 10).until(lambda d: d.find_elements(By.CSS_SELECTOR, "[data-testid=rotate-e2e]"))[0].click()

    def rotate():
        Select(css("[data-testid=rotate-new]")).select_by_value("e2e-next")
        css("[data-testid=rotate-start]").click()
        WebDriverWait(driver, 180).until(lambda d: d.find_elements(By.CSS_SELECTOR, "[data-testid=rotate-result], .modal [role=alert]")
                                         and not d.find_elements(By.CSS_SELECTOR, ".modal button[type=submit][disabled]"))
        found = driver.find_elements(By.CSS_SELECTOR, "[data-testid=rotate-result]")
        check(found, f"the rotation ended with a result: {css('.modal').text}")
        web = driver.find_elements(By.CSS_SELECTOR, '[data-testid=rotate-journal] tr[data-server="web"]')
        check(web, f"the journal has the web host: {css('[data-testid=rotate-journal]').text}")
        return found[0].text, web[0].find_element(By.CSS_SELECTOR, ".tag").text, web[0].text

    result, state, web = rotate()
    check("pending" in result, result)
    check(state == "switched" and "still logs in" in web, web)
    check(chom("server", "show", "web")["server"]["key"] == "e2e-next", "CHOM logs in to web with the new key")
    shot(driver, "key-rotate-pending")

    ran = chom("run", "web", "--", ": > /etc/ssh/authorized_keys/root")
    check(ran["succeeded"] == 1, ran)
    result, state, web = rotate()
    check("1 done" in result, result)
    check(state == "done" and "refused" in web and "deploy" in web, web)
    # The deploy user that setup made holds the new key, not the old one.
    old, new = (chom("key", "show", k)["public_key"].split()[1] for k in ("e2e", "e2e-next"))
    deploy = chom("run", "web", "--", "cat ~deploy/.ssh/authorized_keys")["results"][0]["stdout"]
    check(new in deploy and old not in deploy, deploy)
    shot(driver, "key-rotate-done")
    css(".modal .actions button").click()
