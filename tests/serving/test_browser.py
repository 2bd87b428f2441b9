"""The web page in a real browser: headless Chromium, driven by Selenium, against
``grandstaff serve`` started as a user starts it (a fresh process, the shipped models).

CI installs Chromium and its driver from Debian and sets GRANDSTAFF_BROWSER_TESTS=required, so
there a missing browser fails instead of skipping.
"""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import sys
import time
import urllib.request

import pytest

pytest.importorskip("starlette")
pytest.importorskip("selenium")
from selenium import webdriver  # noqa: E402
from selenium.webdriver.chrome.service import Service  # noqa: E402
from selenium.webdriver.common.by import By  # noqa: E402
from selenium.webdriver.support.ui import Select, WebDriverWait  # noqa: E402

CHROMIUM, DRIVER = shutil.which("chromium"), shutil.which("chromedriver")
pytestmark = pytest.mark.slow

KEY_SIGNATURE = """
const sig = document.querySelector('#score svg g.keySig');
return sig ? sig.querySelectorAll('g.keyAccid').length : -1;
"""


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    out = tmp_path_factory.mktemp("served")
    port = _free_port()
    process = subprocess.Popen(
        [sys.executable, "-m", "grandstaff.cli", "serve", "--port", str(port), "--out",
         str(out / "pieces")], cwd=out, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
        text=True)
    url = f"http://127.0.0.1:{port}/"
    deadline = time.monotonic() + 180
    while True:
        try:
            urllib.request.urlopen(url, timeout=2).read()
            break
        except OSError:
            if process.poll() is not None or time.monotonic() > deadline:
                process.kill()
                pytest.fail(f"grandstaff serve did not start: {process.stdout.read()}")
            time.sleep(0.5)
    yield url, out
    process.terminate()  # uvicorn stops gracefully on SIGTERM
    try:
        process.wait(timeout=30)
    except subprocess.TimeoutExpired:
        process.kill()


@pytest.fixture(scope="module")
def browser():
    if not (CHROMIUM and DRIVER):
        message = "Chromium and chromedriver are not installed (apt-get install chromium " \
                  "chromium-driver)"
        if os.environ.get("GRANDSTAFF_BROWSER_TESTS") == "required":
            pytest.fail(message)
        pytest.skip(message)
    options = webdriver.ChromeOptions()
    options.binary_location = CHROMIUM
    for argument in ("--headless=new", "--no-sandbox", "--disable-dev-shm-usage",
                     "--window-size=1400,1100", "--autoplay-policy=no-user-gesture-required"):
        options.add_argument(argument)
    driver = webdriver.Chrome(options=options, service=Service(DRIVER))
    yield driver
    driver.quit()


def _type(driver, element_id: str, text: str) -> None:
    field = driver.find_element(By.ID, element_id)
    field.clear()
    field.send_keys(text)


def test_compose_see_hear_and_transpose_in_a_browser(server, browser, tmp_path):
    url, out = server
    browser.get(url)
    wait = WebDriverWait(browser, 240, poll_frequency=0.25)
    wait.until(lambda d: len(Select(d.find_element(By.ID, "tonic")).options) == 14)
    _type(browser, "seed", "3")  # the default 16 bars, 4/4, 96 bpm, 8 candidates
    pressed = time.monotonic()
    browser.find_element(By.ID, "compose").click()
    wait.until(lambda d: d.execute_script(
        "return document.querySelectorAll('#score svg g.note').length") > 0)
    seen = time.monotonic() - pressed
    assert browser.execute_script(KEY_SIGNATURE) == 0  # C major
    # The audio element has a source the browser can play: it reads its length.
    wait.until(lambda d: d.execute_script(
        "const a = document.getElementById('player'); return a.readyState >= 1 && a.duration"))
    heard = time.monotonic() - pressed
    duration = browser.execute_script("return document.getElementById('player').duration")
    facts = browser.find_element(By.ID, "facts").text
    assert "16 bars" in facts and "seed 3" in facts and "phrases" in facts
    assert "at most 64 bars, 16 candidates and 10 minutes of audio" in browser.find_element(
        By.ID, "bounds").text
    links = {kind: browser.find_element(By.ID, f"get-{kind}").get_attribute("href")
             for kind in ("musicxml", "midi", "pdf", "wav")}
    midi = urllib.request.urlopen(links["midi"]).read()
    assert midi[:4] == b"MThd"
    # 16 bars of 4/4 at 96 bpm (40 s), and the fermatas held longer: as long as the MIDI
    import io

    import mido

    played = mido.MidiFile(file=io.BytesIO(midi)).length
    assert 16 * 4 * 60 / 96 < played < 1.25 * 16 * 4 * 60 / 96
    assert abs(duration - played) <= 60 / 96, (duration, played)
    browser.save_screenshot(str(tmp_path / "composed.png"))

    Select(browser.find_element(By.ID, "variant-tonic")).select_by_value("D")
    _type(browser, "variant-tempo", "120")
    browser.find_element(By.ID, "apply").click()
    wait.until(lambda d: "D major" in d.find_element(By.ID, "title").text)
    assert browser.execute_script(KEY_SIGNATURE) == 2  # two sharps
    assert "♩ = 120" in browser.find_element(By.ID, "facts").text
    browser.save_screenshot(str(tmp_path / "transposed.png"))
    assert (tmp_path / "transposed.png").stat().st_size > 10_000
    print(f"score seen {seen:.2f} s and audio playable {heard:.2f} s after pressing compose")


def test_a_bad_request_shows_a_message_and_the_page_goes_on(server, browser):
    url, _ = server
    browser.get(url)
    wait = WebDriverWait(browser, 240, poll_frequency=0.25)
    wait.until(lambda d: len(Select(d.find_element(By.ID, "tonic")).options) == 14)
    _type(browser, "bars", "2")
    browser.find_element(By.TAG_NAME, "summary").click()
    _type(browser, "primer", "bwv99999")
    browser.find_element(By.ID, "compose").click()
    wait.until(lambda d: "error" in d.find_element(By.ID, "status").get_attribute("class"))
    assert "no piece 'bwv99999' in the Bach corpus" in browser.find_element(By.ID, "status").text
    _type(browser, "primer", "")
    browser.find_element(By.ID, "compose").click()
    wait.until(lambda d: d.execute_script(
        "return document.querySelectorAll('#score svg g.note').length") > 0)
    assert browser.find_element(By.ID, "status").get_attribute("class") == ""


def test_harmonise_a_typed_tune_in_a_browser(server, browser, tmp_path):
    """The Harmonise tab: type an ABC tune, read it (the page shows its notes), harmonise it;
    the score appears with the melody kept, and the page's status says so."""
    url, _ = server
    browser.get(url)
    wait = WebDriverWait(browser, 240, poll_frequency=0.25)
    wait.until(lambda d: len(Select(d.find_element(By.ID, "tonic")).options) == 14)
    browser.find_element(By.ID, "tab-harmonise").click()
    assert browser.find_element(By.ID, "controls").get_attribute("hidden") is not None
    abc = browser.find_element(By.ID, "abc")
    abc.send_keys("X:1\nT:Little tune\nM:3/4\nK:G\nD2|G2A2B2|c4B2|A2G2F2|G4|]")
    browser.find_element(By.ID, "read-melody").click()
    wait.until(lambda d: "notes:" in d.find_element(By.ID, "melody-view").text)
    shown = browser.find_element(By.ID, "melody-view").text
    assert "G major · 3/4 · 4 bars · a pickup · 10 notes: D4 G4 A4 B4 C5 B4 A4 G4 F#4 G4" in \
        shown, shown
    _type(browser, "h-seed", "3")
    browser.find_elements(By.TAG_NAME, "summary")[1].click()  # the Harmonise tab's sampling
    _type(browser, "h-candidates", "2")
    browser.find_element(By.ID, "harmonise-button").click()
    wait.until(lambda d: "Harmonised" in d.find_element(By.ID, "status").text)
    assert browser.execute_script(KEY_SIGNATURE) == 1  # G major
    facts = browser.find_element(By.ID, "facts").text
    assert "4 bars" in facts and "100% of the melody on top" in facts, facts
    browser.save_screenshot(str(tmp_path / "harmonised.png"))
    assert (tmp_path / "harmonised.png").stat().st_size > 10_000
