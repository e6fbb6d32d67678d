"""The web app in a real browser (headless Chromium through selenium): the search form submits, a
result card leads to its briefing turn, and "copy as citation" puts the card's citation on the
clipboard under the page's Content Security Policy; the timeline page draws a bar segment per
period and group.

Needs chromium, chromedriver (/usr/bin/chromedriver) and selenium: skipped without them, saying
why; under CI=true, which must run them, they fail instead of passing unrun. With
BRIEFQA_SCREENSHOTS=DIR, screenshots of the search and briefing pages at desktop and phone sizes
are written there."""

import os
import shutil
import socket
import threading
import time
from pathlib import Path

import pytest

CHROMEDRIVER = Path("/usr/bin/chromedriver")
QUESTION = "How many exotic animals did customs intercept?"
SIZES = {"desktop": (1366, 900), "phone": (390, 844)}


def _require_browser() -> None:
    missing = []
    if not (shutil.which("chromium") or shutil.which("chromium-browser")):
        missing.append("chromium")
    if not CHROMEDRIVER.exists():
        missing.append(str(CHROMEDRIVER))
    try:
        import selenium  # noqa: F401
        import uvicorn  # noqa: F401
    except ImportError as err:
        missing.append(f"the Python package {err.name}")
    if missing:
        reason = (
            f"browser tests need {', '.join(missing)}: apt-get install chromium chromium-driver; pip install selenium"
        )
        if os.environ.get("CI", "").lower() in ("true", "1"):
            pytest.fail(f"{reason}; and CI=true: CI must run them", pytrace=False)
        pytest.skip(reason)


@pytest.fixture(scope="module")
def server(_fixture_index_built, tmp_path_factory):
    """The app over a copy of the fixture index, served by uvicorn on a free port in a thread."""
    _require_browser()
    import uvicorn

    from briefqa.web.app import create_app

    index = tmp_path_factory.mktemp("web") / "index"
    shutil.copytree(_fixture_index_built, index, symlinks=True)
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    served = uvicorn.Server(uvicorn.Config(create_app(index), host="127.0.0.1", port=port, log_level="warning"))
    thread = threading.Thread(target=served.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 20
    while not served.started:
        assert time.monotonic() < deadline and thread.is_alive(), "the server did not start"
        time.sleep(0.05)
    yield f"http://127.0.0.1:{port}"
    served.should_exit = True
    thread.join(10)


@pytest.fixture(scope="module")
def browser(server):
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    options = webdriver.ChromeOptions()
    for argument in ("--headless=new", "--no-sandbox", "--disable-dev-shm-usage", "--window-size=1366,900"):
        options.add_argument(argument)
    driver = webdriver.Chrome(options=options, service=Service(str(CHROMEDRIVER)))
    driver.set_page_load_timeout(30)
    # Headless Chromium asks before a page writes the clipboard: grant it, as a user's click would.
    driver.execute_cdp_cmd(
        "Browser.grantPermissions",
        {"origin": server, "permissions": ["clipboardReadWrite", "clipboardSanitizedWrite"]},
    )
    yield driver
    driver.quit()


def _search(browser, server):
    from selenium.webdriver.common.by import By

    browser.get(server + "/")
    box = browser.find_element(By.NAME, "q")
    box.send_keys(QUESTION)
    box.submit()
    return browser.find_element(By.ID, "result-1")


def test_the_form_submits_and_shows_the_answer(browser, server):
    from selenium.webdriver.common.by import By

    _search(browser, server)
    assert "q=How+many+exotic" in browser.current_url
    assert "1,284 batches" in browser.find_element(By.CSS_SELECTOR, "section.answer").text


def test_a_result_card_leads_to_its_turn(browser, server):
    from selenium.webdriver.common.by import By

    card = _search(browser, server)
    card.find_element(By.PARTIAL_LINK_TEXT, "Read turn").click()
    turn = browser.current_url.rsplit("#", 1)[1]
    assert turn.startswith("turn-") and "/briefings/scio-2025-02-10-port-security?hl=" in browser.current_url
    section = browser.find_element(By.ID, turn)
    assert section.find_element(By.TAG_NAME, "mark").text.strip()
    assert browser.execute_script("return document.querySelector(':target').id") == turn


def test_copy_as_citation_copies_the_citation_shown(browser, server):
    from selenium.webdriver.common.by import By

    card = _search(browser, server)
    button = card.find_element(By.XPATH, ".//button[text()='Copy as citation']")
    citation = button.get_attribute("data-copy")
    assert citation.startswith('"') and "turn" in citation
    card.find_element(By.TAG_NAME, "summary").click()
    assert citation in card.find_element(By.CSS_SELECTOR, "pre.citation").text
    button.click()
    copied = browser.execute_async_script(
        "navigator.clipboard.readText().then(arguments[0], e => arguments[0]('ERR ' + e))"
    )
    assert copied == citation


def test_the_timeline_page_draws_its_bars(browser, server):
    """The timeline's inline SVG renders (a bar segment per non-zero period and role, each with a
    size on screen) and a segment leads to the search for its period and role."""
    import json
    from urllib.parse import urlencode

    from selenium.webdriver.common.by import By

    query = urlencode({"q": QUESTION, "k": 30, "by": "week", "split": "role"})
    browser.get(f"{server}/api/timeline?{query}")
    made = json.loads(browser.find_element(By.TAG_NAME, "body").text)
    cells = sum(1 for p in made["periods"] for n in p["counts"].values() if n)
    browser.get(f"{server}/timeline?{query}")
    rects = browser.find_elements(By.CSS_SELECTOR, "svg.chart rect.bar")
    assert len(rects) == cells > 0
    assert all(r.size["height"] > 0 and r.size["width"] > 0 for r in rects)
    segment = browser.find_element(By.CSS_SELECTOR, "svg.chart a")
    title = segment.find_element(By.TAG_NAME, "title").get_attribute("textContent")  # "2025-W07 · official: 3 turns"
    label, group = title.split(":")[0].split(" · ")
    segment.click()
    assert "period=" in browser.current_url and "group=" in browser.current_url
    cards = browser.find_elements(By.CSS_SELECTOR, "#turns article.card")
    counted = next(p for p in made["periods"] if p["label"] == label)["counts"][group]
    assert len(cards) == counted > 0  # exactly the turns the segment counts


def test_pages_fit_a_laptop_and_a_phone(browser, server, tmp_path):
    """At each width the page scrolls only down, never sideways; the screenshots go where
    BRIEFQA_SCREENSHOTS names a folder (for a person to look at), else to a temporary one."""
    folder = os.environ.get("BRIEFQA_SCREENSHOTS") or str(tmp_path)
    from selenium.webdriver.common.by import By

    def fits() -> bool:
        return browser.execute_script("return document.documentElement.scrollWidth <= window.innerWidth")

    Path(folder).mkdir(parents=True, exist_ok=True)
    for size, (width, height) in SIZES.items():
        metrics = {"width": width, "height": height, "deviceScaleFactor": 1, "mobile": width < 600}
        browser.execute_cdp_cmd("Emulation.setDeviceMetricsOverride", metrics)
        card = _search(browser, server)
        assert fits(), f"the search page scrolls sideways at {width}px"
        assert browser.save_screenshot(f"{folder}/search-{size}.png")
        card.find_element(By.PARTIAL_LINK_TEXT, "Read turn").click()
        assert fits(), f"the briefing page scrolls sideways at {width}px"
        assert browser.save_screenshot(f"{folder}/briefing-{size}.png")
    browser.execute_cdp_cmd("Emulation.clearDeviceMetricsOverride", {})
