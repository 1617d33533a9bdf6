"""The Studio in a real browser: headless Chromium (Debian's package) driven by Selenium.

One local stack (moto + the real ASL + handlers) and the API served by uvicorn on 127.0.0.1 for
the package; a second app with AUTH_ENABLED on serves the auth test. Nothing downloads a browser:
without ``/usr/bin/chromium`` the package is skipped, except on CI (``CI`` set), where it fails.
"""

from __future__ import annotations

import json
import os
import shutil
import threading
from collections.abc import Callable, Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlparse

import pytest

from orchestrator.local.runtime import LocalRuntime
from orchestrator.local.server import local_stack
from tests.e2e.conftest import reconfigured
from tests.support.fake_agent import FakeAgentServer
from tests.support.served import served

CHROMIUM = Path("/usr/bin/chromium")
CHROMEDRIVER = Path("/usr/bin/chromedriver")
REPO = Path(__file__).resolve().parents[2]
SCREENSHOTS = REPO / "build" / "studio"
#: ``STUDIO_README_SCREENSHOTS=1`` also writes the README's copies (docs/studio/<view>.png).
README_SCREENSHOTS = REPO / "docs" / "studio"
#: Seconds a page may take to show what a test waits for (a chat through the graph included).
WAIT_S = 30
#: In the settings the page shows; the test checks it never reaches the browser.
MODEL_KEY = "sk-studio-browser-secret-7f3a9c"
ADMIN_KEY = "studio-admin-key-0123456789abcdef"
AUTH_KEYS = f"{ADMIN_KEY}:acme:admin"


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    if CHROMIUM.exists() and CHROMEDRIVER.exists():
        return
    browser_tests = [item for item in items if "driver" in getattr(item, "fixturenames", ())]
    if browser_tests and os.environ.get("CI"):
        raise pytest.UsageError(f"{CHROMIUM} and {CHROMEDRIVER} are required on CI (.ci/run installs them)")
    skip = pytest.mark.skip(
        reason=f"no {CHROMIUM} / {CHROMEDRIVER} (apt-get install chromium chromium-driver)"
    )
    # Only what drives the browser: the page's headers and files are checked without one.
    for item in browser_tests:
        item.add_marker(skip)


class ToolServer:
    """An HTTP tool on 127.0.0.1: ``GET /weather?city=…`` answers a fixed forecast."""

    def __init__(self) -> None:
        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                query = parse_qs(urlparse(self.path).query)
                body = json.dumps({"city": query.get("city", ["?"])[0], "forecast": "sunny", "temp_c": 21})
                self.send_response(200)
                self.send_header("Content-Type", "application/json")
                self.end_headers()
                self.wfile.write(body.encode())

            def log_message(self, *args: Any) -> None:
                pass

        self._http = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.port = self._http.server_address[1]
        self._thread = threading.Thread(target=self._http.serve_forever, name="tool-server", daemon=True)

    def __enter__(self) -> ToolServer:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._http.shutdown()
        self._http.server_close()
        self._thread.join(timeout=5)


@pytest.fixture(scope="package")
def tool_server() -> Iterator[ToolServer]:
    with ToolServer() as server:
        yield server


@pytest.fixture(scope="package")
def stack(tool_server: ToolServer) -> Iterator[LocalRuntime]:
    with FakeAgentServer() as agent:
        env = {
            "EXTERNAL_AGENT_BASE_URL": agent.base_url,
            "LLM_PROVIDER": "offline",
            "LLM_API_KEY": MODEL_KEY,
            "WORKFLOW_TIMEOUT_S": "60",
            "HTTP_TOOL_ALLOWED_HOSTS": f"127.0.0.1:{tool_server.port}",
        }
        with reconfigured(**env), local_stack() as runtime:
            yield runtime


@pytest.fixture(scope="package")
def base_url(stack: LocalRuntime) -> Iterator[str]:
    """The API and the Studio on a real socket (auth off, as ``make run`` starts)."""
    from orchestrator.api import create_app

    with served(create_app()) as url:
        yield url


@pytest.fixture(scope="package")
def secured_url(stack: LocalRuntime) -> Iterator[str]:
    """The same stack behind AUTH_ENABLED with an admin key (another port: another origin)."""
    from orchestrator.api import create_app
    from orchestrator.config import Settings

    settings = Settings(auth_enabled=True, api_keys=AUTH_KEYS)  # type: ignore[arg-type]
    with served(create_app(settings)) as url:
        yield url


@pytest.fixture(scope="package")
def driver() -> Iterator[Any]:
    from selenium import webdriver
    from selenium.webdriver.chrome.options import Options
    from selenium.webdriver.chrome.service import Service

    options = Options()
    options.binary_location = str(CHROMIUM)
    for argument in (
        "--headless=new",
        "--no-sandbox",
        "--disable-dev-shm-usage",
        "--no-proxy-server",
        "--window-size=1400,900",
        "--force-device-scale-factor=1",
    ):
        options.add_argument(argument)
    options.set_capability("goog:loggingPrefs", {"browser": "ALL"})
    browser = webdriver.Chrome(options=options, service=Service(str(CHROMEDRIVER)))
    browser.set_page_load_timeout(WAIT_S)
    try:
        yield browser
    finally:
        browser.quit()


class Studio:
    """The page under test: open a view, wait for it, read the console, take a screenshot."""

    def __init__(self, driver: Any, base_url: str) -> None:
        self.driver = driver
        self.base_url = base_url

    def open(self, view: str) -> Any:
        """Load ``/studio#<view>`` afresh and wait until the view says it is ready."""
        self.driver.get(f"{self.base_url}/studio#{view}")
        self.driver.refresh()  # a hash-only change would keep the page: start each view clean
        name = view.split("/", maxsplit=1)[0]
        return self.wait_for(f"#view-{name}[data-ready='true']")

    def wait_for(self, css: str, timeout: float = WAIT_S) -> Any:
        from selenium.webdriver.common.by import By
        from selenium.webdriver.support import expected_conditions as ec
        from selenium.webdriver.support.ui import WebDriverWait

        return WebDriverWait(self.driver, timeout).until(
            ec.visibility_of_element_located((By.CSS_SELECTOR, css))
        )

    def until(self, condition: Callable[[Any], Any], timeout: float = WAIT_S, message: str = "") -> Any:
        from selenium.webdriver.support.ui import WebDriverWait

        return WebDriverWait(self.driver, timeout).until(condition, message)

    def find(self, css: str) -> Any:
        from selenium.webdriver.common.by import By

        return self.driver.find_element(By.CSS_SELECTOR, css)

    def find_all(self, css: str) -> list[Any]:
        from selenium.webdriver.common.by import By

        return list(self.driver.find_elements(By.CSS_SELECTOR, css))

    def type(self, css: str, text: str) -> None:
        element = self.find(css)
        element.clear()
        element.send_keys(text)

    def console_errors(self) -> list[str]:
        """Severe console entries since the last call (the log is drained on read)."""
        return [entry["message"] for entry in self.driver.get_log("browser") if entry["level"] == "SEVERE"]

    def screenshot(self, view: str) -> Path:
        self.wait_for("#health[data-status]")  # the header's health pill fills in on its own
        SCREENSHOTS.mkdir(parents=True, exist_ok=True)
        path = SCREENSHOTS / f"{view}.png"
        self.driver.save_screenshot(str(path))
        if os.environ.get("STUDIO_README_SCREENSHOTS"):
            README_SCREENSHOTS.mkdir(parents=True, exist_ok=True)
            shutil.copyfile(path, README_SCREENSHOTS / f"{view}.png")
        return path


@pytest.fixture(scope="package")
def studio(driver: Any, base_url: str) -> Studio:
    return Studio(driver, base_url)
