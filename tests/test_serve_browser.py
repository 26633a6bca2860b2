"""The page in a real browser: Debian's chromium, driven by Selenium through Debian's
chromedriver (nothing downloaded at run time), against `scaffold serve` on loopback.

Picks FastAPI and a database, sees the preview follow, sees an option the first framework
cannot take disabled with its reason, follows the Share link, downloads the zip and checks its
tree. A screenshot of the page is kept in $SERVE_ARTEFACTS (default: test-artefacts/ in the
checkout) for CI to upload.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import time
import urllib.error
import urllib.request
import zipfile
from collections.abc import Iterator
from pathlib import Path

import pytest

from scaffolder import toolchain

from .conftest import REPO, require
from .test_serve import UNSUPPORTED, _free_port, make_fork

# Debian's chromium (.ci/run installs it); GitHub's Ubuntu runners ship Google Chrome and its
# driver (in $CHROMEWEBDRIVER) instead.
CHROMIUM = next(
    filter(None, map(shutil.which, ("chromium", "chromium-browser", "google-chrome"))), None
)
CHROMEDRIVER = shutil.which("chromedriver") or shutil.which(
    "chromedriver", path=os.environ.get("CHROMEWEBDRIVER") or os.defpath
)
SERVE = [sys.executable, "-m", "scaffolder", "serve"]
ARTEFACTS = Path(os.environ.get("SERVE_ARTEFACTS") or REPO / "test-artefacts")


@pytest.fixture
def server(tmp_path: Path) -> Iterator[str]:
    fork = make_fork(tmp_path / "template")
    port = _free_port()
    process = subprocess.Popen(
        [*SERVE, "--port", str(port), "--template", str(fork), "--no-lock"],
        env=toolchain.tool_env(dict(os.environ)),
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                urllib.request.urlopen(f"{url}/metadata").close()  # noqa: S310 - http only
                break
            except (urllib.error.URLError, ConnectionError):
                assert process.poll() is None
                assert time.monotonic() < deadline
                time.sleep(0.2)
        yield url
    finally:
        process.terminate()
        process.wait(timeout=10)


def test_the_page_in_headless_chromium(server: str, tmp_path: Path) -> None:
    require(CHROMIUM and CHROMEDRIVER, "chromium and chromium-driver are not installed")
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support.ui import WebDriverWait

    downloads = tmp_path / "downloads"
    downloads.mkdir()
    options = webdriver.ChromeOptions()
    options.binary_location = str(CHROMIUM)
    for argument in ("--headless=new", "--no-sandbox", "--disable-dev-shm-usage"):
        options.add_argument(argument)
    options.add_argument("--window-size=1400,1600")
    options.add_experimental_option(
        "prefs",
        {"download.default_directory": str(downloads), "download.prompt_for_download": False},
    )
    driver = webdriver.Chrome(service=Service(executable_path=str(CHROMEDRIVER)), options=options)
    wait = WebDriverWait(driver, 120)
    try:
        driver.get(server + "/")
        extension, framework, reason = UNSUPPORTED
        # The default framework cannot take the extension: disabled, with its reason beside it.
        box = driver.find_element(By.CSS_SELECTOR, f'input[name="extensions"][value="{extension}"]')
        assert not box.is_enabled()
        label = driver.find_element(By.CSS_SELECTOR, f'[data-extension="{extension}"] .reason')
        assert label.text == f"not with {framework}: {reason}"
        wait.until(lambda d: "README.md" in d.find_element(By.ID, "tree").text)
        ARTEFACTS.mkdir(parents=True, exist_ok=True)
        driver.save_screenshot(str(ARTEFACTS / "serve-page-default.png"))

        name = driver.find_element(By.NAME, "name")
        name.clear()
        name.send_keys("browser-shop")
        driver.find_element(By.CSS_SELECTOR, 'input[name="framework"][value="fastapi"]').click()
        wait.until(lambda d: box.is_enabled())
        assert label.text == ""
        box.click()
        package = "browser_shop"
        wait.until(lambda d: f"src/{package}/database.py" in d.find_element(By.ID, "tree").text)
        command = driver.find_element(By.ID, "command").text
        assert command.startswith("scaffold new browser-shop --framework fastapi")
        assert f"--with {extension}" in command
        # A selected file's content.
        driver.find_element(By.CSS_SELECTOR, '#tree li[data-path="pyproject.toml"]').click()
        assert 'name = "browser-shop"' in driver.find_element(By.ID, "content").text

        driver.execute_script("window.scrollTo(0, 0)")
        driver.save_screenshot(str(ARTEFACTS / "serve-page.png"))

        # The Share link holds the whole selection: a fresh page shows the same choices.
        share = driver.find_element(By.ID, "share").get_attribute("href")
        assert share is not None
        driver.get("about:blank")
        driver.get(share)
        assert driver.find_element(By.NAME, "name").get_attribute("value") == "browser-shop"
        fastapi = driver.find_element(By.CSS_SELECTOR, 'input[name="framework"][value="fastapi"]')
        assert fastapi.is_selected()
        shared_box = driver.find_element(
            By.CSS_SELECTOR, f'input[name="extensions"][value="{extension}"]'
        )
        assert shared_box.is_selected()
        assert driver.find_element(By.ID, "command").text == command

        driver.find_element(By.ID, "download").click()
        archive = downloads / "browser-shop.zip"
        wait.until(lambda d: archive.is_file() and not list(downloads.glob("*.crdownload")))
    finally:
        driver.quit()
    with zipfile.ZipFile(archive) as unzipped:
        names = set(unzipped.namelist())
    for path in (
        "pyproject.toml",
        f"src/{package}/app.py",
        f"src/{package}/database.py",
        "Dockerfile",
        ".copier-answers.yml",
    ):
        assert f"browser-shop/{path}" in names
