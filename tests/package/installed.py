"""The installed package, as an operator gets it: /usr/bin/chom-desktop
launched under Xvfb through WebDriver shows the inventory that the
installed /usr/bin/chom wrote; the man page and completions are where
man and the shells look."""

import os
import shutil
import subprocess
import sys
import tempfile

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "app_smoke"))
from harness import App, Cli, check  # noqa: E402

OUT = os.path.abspath(sys.argv[1])
for path in ["/usr/share/man/man1/chom.1.gz", "/usr/share/man/man1/chom-key-rotate.1.gz",
             "/usr/share/bash-completion/completions/chom", "/usr/share/zsh/vendor-completions/_chom",
             "/usr/share/fish/vendor_completions.d/chom.fish", "/usr/share/applications/CHOM.desktop"]:
    check(os.path.isfile(path), f"{path} is installed")
version = subprocess.run(["/usr/bin/chom", "--version"], capture_output=True, text=True, check=True).stdout
check(version.startswith("chom "), version)

data = tempfile.mkdtemp(prefix="chom-pkg-")
chom = Cli("/usr/bin", data)
chom("key", "generate", "pkg")
chom("server", "add", "from-the-package", "--host", "127.0.0.1", "--user", "nobody", "--key", "pkg", "--tag", "pkg")
app = App("/usr/bin", data)
try:
    driver = app.launch()
    row = app.wait(60).until(lambda d: d.find_elements("css selector", 'tr[data-server="from-the-package"]'))[0]
    check("pkg" in row.text, row.text)
    driver.save_screenshot(os.path.join(OUT, "installed-app.png"))
    print("installed app: launched, shows the inventory", flush=True)
finally:
    app.close()
    shutil.rmtree(data, ignore_errors=True)
