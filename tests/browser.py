"""Shared fixtures for browser tests: real Chromium, a static file server, built sites.

Use them from a test module with

    pytest_plugins = ["browser"]

and mark each test `@pytest.mark.browser`. Then:

- `browser`: one Chromium for the whole session: Debian's `chromium`
  (/usr/bin/chromium, or $S3SITE_CHROMIUM) driven by Playwright for Python
  through `executable_path`; no browser is ever downloaded. When Chromium or
  Playwright is missing the test is skipped with a message saying how to
  install it, unless S3SITE_REQUIRE_BROWSER=1 (as .ci/run sets): then it fails.
- `browser_page`: a fresh page (own context: no shared cookies or storage)
  that records console errors in `page.errors`; a request to any host but
  127.0.0.1 fails the test when the page is closed.
- `static_server`: a function `serve(folder, prefix="/") -> url` that serves
  a folder on 127.0.0.1 (a threaded http.server on a free port) under a path
  prefix, e.g. "/practices/" for a site built with a sub-path base_url.
- `example_output`: the repo's example site (content/) built once per
  session into a temporary folder; `example_output_sub` the same with
  base_url http://127.0.0.1/practices/.
"""

from __future__ import annotations

import functools
import http.server
import importlib.util
import os
import shutil
import threading
import urllib.parse
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parent.parent
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync", "--no-first-run"]
INSTALL_HINT = ("install it with `apt-get install chromium` "
                "(Debian's package; Playwright comes with pip install -e '.[test]')")


def chromium_path() -> str | None:
    """The Chromium $S3SITE_CHROMIUM names, else Debian's; None when there is none."""
    named = os.environ.get("S3SITE_CHROMIUM")
    candidates = [named] if named else ["/usr/bin/chromium", shutil.which("chromium")]
    for candidate in candidates:
        if candidate and Path(candidate).is_file():
            return candidate
    return None


def require_browser() -> str:
    """The Chromium to drive; skip the test (fail under S3SITE_REQUIRE_BROWSER=1) without one."""
    missing = []
    executable = chromium_path()
    if executable is None:
        missing.append("Chromium (/usr/bin/chromium)")
    if importlib.util.find_spec("playwright") is None:
        missing.append("Playwright for Python (pip install -e '.[test]')")
    if missing:
        message = f"browser test needs {' and '.join(missing)}: {INSTALL_HINT}"
        if os.environ.get("S3SITE_REQUIRE_BROWSER") == "1":
            pytest.fail(message + "; S3SITE_REQUIRE_BROWSER=1 makes a missing browser a failure",
                        pytrace=False)
        pytest.skip(message)
    assert executable is not None
    return executable


@pytest.fixture(scope="session")
def browser():
    """One headless Chromium for the session."""
    executable = require_browser()
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        launched = playwright.chromium.launch(executable_path=executable, args=CHROMIUM_ARGS)
        try:
            yield launched
        finally:
            launched.close()


@pytest.fixture
def browser_page(browser):
    """A new page in a new context; page.errors and page.foreign collect problems."""
    context = browser.new_context(viewport={"width": 1280, "height": 900})
    page = context.new_page()
    page.set_default_timeout(10_000)
    page.errors = []  # type: ignore[attr-defined]
    page.foreign = []  # type: ignore[attr-defined]
    page.on("pageerror", lambda exc: page.errors.append(str(exc)))
    page.on("console", lambda msg: msg.type == "error" and page.errors.append(msg.text))

    def check_host(request) -> None:
        host = urllib.parse.urlsplit(request.url).hostname
        if request.url.startswith(("http:", "https:", "ws:", "wss:")) and host != "127.0.0.1":
            page.foreign.append(request.url)

    page.on("request", check_host)
    try:
        yield page
    finally:
        context.close()
    assert page.foreign == [], f"the page asked other hosts for: {page.foreign}"


class _Handler(http.server.SimpleHTTPRequestHandler):
    """Serves `directory` under `prefix`; anything outside the prefix is 404."""

    prefix = "/"
    extensions_map = {**http.server.SimpleHTTPRequestHandler.extensions_map,
                      ".js": "text/javascript", ".wasm": "application/wasm",
                      ".json": "application/json"}

    def translate_path(self, path: str) -> str:
        clean = urllib.parse.urlsplit(path).path
        if not clean.startswith(self.prefix):
            return str(Path(self.directory) / ".s3site-not-served")
        return super().translate_path("/" + clean[len(self.prefix):])

    def log_message(self, format: str, *args) -> None:  # noqa: A002 - the base class's name
        pass


@pytest.fixture(scope="session")
def static_server() -> Iterator[Callable[..., str]]:
    """serve(folder, prefix="/") -> the URL of the folder, served on 127.0.0.1."""
    servers: list[http.server.ThreadingHTTPServer] = []

    def serve(folder: Path, prefix: str = "/") -> str:
        handler = type("Handler", (_Handler,), {"prefix": prefix})
        server = http.server.ThreadingHTTPServer(
            ("127.0.0.1", 0), functools.partial(handler, directory=str(folder)))
        server.daemon_threads = True
        threading.Thread(target=server.serve_forever, daemon=True).start()
        servers.append(server)
        return f"http://127.0.0.1:{server.server_address[1]}{prefix}"

    yield serve
    for server in servers:
        server.shutdown()
        server.server_close()


def build_example(folder: Path, base_url: str | None = None) -> Path:
    """Build the repo's example site into folder/output; return the output folder."""
    from s3site.builder import build

    output = folder / "output"
    build(REPO, output=output, base_url=base_url)
    return output


@pytest.fixture(scope="session")
def example_output(tmp_path_factory) -> Path:
    """The example site, built once for the session."""
    return build_example(tmp_path_factory.mktemp("example"))


@pytest.fixture(scope="session")
def example_output_sub(tmp_path_factory) -> Path:
    """The example site built for a sub-path: base_url http://127.0.0.1/practices/."""
    return build_example(tmp_path_factory.mktemp("example-sub"), "http://127.0.0.1/practices/")
