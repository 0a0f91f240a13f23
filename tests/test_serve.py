"""`s3site serve`: the live preview, run as a real server in a subprocess on a free port."""

from __future__ import annotations

import contextlib
import http.client
import json
import os
import re
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import threading
import time
import urllib.request
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from conftest import REPO, practice_text

from s3site.builder import build
from s3site.errors import SiteError, error
from s3site.links import page_links
from s3site.quick import render_edited
from s3site.server import (
    HISTORY,
    WATCHES_SET_UP,
    Preview,
    PreviewServer,
    State,
    Watcher,
    changed_pages,
    resolve_request,
)

# browser_page: Debian's Chromium through Playwright, skipped (or failed under
# S3SITE_REQUIRE_BROWSER=1) without it; see tests/browser.py.
pytest_plugins = ["browser"]

LIVE_SCRIPT_ID = "s3site-live"
OVERLAY_ID = "s3site-error-overlay"


class Server:
    """A running `s3site serve`, its output lines, and a small HTTP client for it."""

    def __init__(self, root: Path, scratch: Path, *args: str) -> None:
        self.root = root
        self.scratch = scratch  # its TMPDIR: the preview's temporary folder goes here
        self.lines: list[str] = []
        # PYTHONFAULTHANDLER: a preview that hangs can be made to print where (see dump()).
        env = dict(os.environ, PYTHONUNBUFFERED="1", PYTHONFAULTHANDLER="1", TMPDIR=str(scratch))
        self.process = subprocess.Popen(
            [sys.executable, "-m", "s3site", "serve", "--root", str(root), *args],
            cwd=REPO, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
        )
        self.reader = threading.Thread(target=self._read, daemon=True)
        self.reader.start()
        try:
            found = self.wait_for(lambda: self._url(), timeout=60, what="the 'Serving' line")
        except AssertionError as exc:
            raise AssertionError(f"{exc}\n{self.dump()}") from None
        self.url = found
        match = re.match(r"http://([^:/]+):(\d+)(/.*)", self.url)
        assert match, self.url
        self.host, self.port, self.base_path = match[1], int(match[2]), match[3]

    def _read(self) -> None:
        assert self.process.stdout is not None
        for line in self.process.stdout:
            self.lines.append(line.rstrip("\n"))

    def _url(self) -> str | None:
        if self.process.poll() is not None:
            raise AssertionError(f"serve exited with {self.process.returncode}:\n{self.output}")
        for line in self.lines:
            match = re.search(r"Serving the preview at (http://\S+)", line)
            if match:
                return match[1]
        return None

    @property
    def output(self) -> str:
        return "\n".join(self.lines)

    def wait_for(self, condition: Callable[[], object], *, timeout: float = 10, what: str = ""):
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            value = condition()
            if value:
                return value
            time.sleep(0.02)
        raise AssertionError(f"timed out waiting for {what or condition}; output:\n{self.output}")

    def get(self, path: str, *, timeout: float = 10) -> tuple[int, dict[str, str], str]:
        """GET a raw path (nothing normalised, so `..` reaches the server as sent)."""
        connection = http.client.HTTPConnection(self.host, self.port, timeout=timeout)
        try:
            connection.request("GET", path)
            response = connection.getresponse()
            body = response.read().decode("utf-8", errors="replace")
            return response.status, {k.lower(): v for k, v in response.getheaders()}, body
        finally:
            connection.close()

    def page(self, path: str) -> str:
        status, _, body = self.get(path)
        assert status == 200, (path, status, body[:500])
        return body

    def status(self) -> dict:
        return json.loads(self.get("/__s3site__/status")[2])

    def wait_for_build(self, after: int, timeout: float = 10) -> dict:
        """Wait until a build after number `after` has finished; return the status."""
        return self.wait_for(lambda: (s := self.status())["builds"] > after and s,
                             timeout=timeout, what=f"a build after build {after}")

    def dump(self) -> str:
        """Stop a hung preview and its build's workers, and return where each thread was."""
        processes = [self.process.pid]
        with contextlib.suppress(OSError):  # Linux names a process's children in /proc
            for task in Path(f"/proc/{self.process.pid}/task").iterdir():
                processes += [int(pid) for pid in (task / "children").read_text().split()]
        already = len(self.lines)
        for pid in reversed(processes):  # the workers first, while the preview still reads
            with contextlib.suppress(OSError):
                os.kill(pid, signal.SIGABRT)  # faulthandler prints every thread's stack
        with contextlib.suppress(subprocess.TimeoutExpired):
            self.process.wait(timeout=10)
        self.reader.join(5)
        return (f"processes {processes}; their stacks:\n" + "\n".join(self.lines[already:]))

    def interrupt(self, stop: signal.Signals = signal.SIGINT, timeout: float = 10) -> int:
        self.process.send_signal(stop)
        return self.process.wait(timeout=timeout)

    def stop(self) -> None:
        if self.process.poll() is None:
            try:
                self.interrupt()
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        self.reader.join(5)
        assert self.process.stdout is not None
        self.process.stdout.close()


@pytest.fixture
def serve(tmp_path: Path) -> Iterator[Callable[..., Server]]:
    """Start `s3site serve --port 0 ...` on a site root; stopped at the end of the test."""
    started: list[Server] = []

    def start(root: Path, *args: str) -> Server:
        scratch = tmp_path / f"tmp{len(started)}"
        scratch.mkdir()
        server = Server(root, scratch, "--port", "0", *args)
        started.append(server)
        return server

    yield start
    for server in started:
        server.stop()


def edit_title(root: Path, title: str, name: str = "lapland.md") -> None:
    (root / "content" / "practices" / name).write_text(practice_text(title=title), encoding="utf-8")


# --- Serving ---------------------------------------------------------------------------------


def test_serves_pages_with_content_types_and_the_sites_own_404(make_site, serve):
    server = serve(make_site())
    assert server.url == f"http://127.0.0.1:{server.port}/"
    status, headers, body = server.get("/")
    assert status == 200 and headers["content-type"] == "text/html; charset=utf-8"
    assert headers["cache-control"] == "no-store"
    assert "Test Practices" in body and LIVE_SCRIPT_ID in body
    # The preview is built for its own address, so absolute links stay in the preview.
    assert f'<link rel="canonical" href="http://127.0.0.1:{server.port}/">' in body
    for path, kind in [("/assets/s3site.css", "text/css; charset=utf-8"),
                       ("/feed.xml", "application/xml"), ("/practices.json", "application/json"),
                       ("/practices.csv", "text/csv; charset=utf-8"),
                       ("/assets/favicon.svg", "image/svg+xml"),
                       ("/robots.txt", "text/plain; charset=utf-8")]:
        status, headers, body = server.get(path)
        assert (status, headers["content-type"]) == (200, kind), path
        assert LIVE_SCRIPT_ID not in body, path
    assert "Lapland cooperatives" in server.page("/practices/lapland/")
    status, headers, _ = server.get("/practices/lapland?x=1")
    assert (status, headers["location"]) == (302, "/practices/lapland/?x=1")
    status, headers, body = server.get("/no/such/page/")
    assert status == 404 and headers["content-type"] == "text/html; charset=utf-8"
    assert "Page not found" in body and LIVE_SCRIPT_ID in body  # the site's 404 page, live too


def test_editing_a_title_changes_the_served_page_within_two_seconds(make_site, serve):
    root = make_site()
    server = serve(root)
    assert "Lapland cooperatives" in server.page("/practices/lapland/")
    saved = time.monotonic()
    edit_title(root, "Lapland renamed")
    server.wait_for(lambda: "Lapland renamed" in server.page("/practices/lapland/"), timeout=2,
                    what="the new title")
    print(f"save to served page: {time.monotonic() - saved:.2f} s")
    # The log line may reach us a moment after the page is served.
    server.wait_for(lambda: re.search(r"Built after changes to content/practices/lapland\.md", server.output),
                    timeout=2, what="the rebuild's log line")


def test_wait_endpoint_answers_at_once_when_the_page_is_stale(make_site, serve):
    server = serve(make_site())
    state = server.status()
    ask = "/__s3site__/wait?server={}&generation={}&timeout=1"
    for stale in [ask.format(state["server"], state["generation"] - 1),
                  ask.format("an-earlier-server-run", state["generation"])]:
        started = time.monotonic()
        answer = json.loads(server.get(stale)[2])
        assert time.monotonic() - started < 0.5
        assert (answer["server"], answer["generation"]) == (state["server"], state["generation"])
    started = time.monotonic()
    server.get(ask.format(state["server"], state["generation"]))  # up to date: held, then answered
    assert 0.9 < time.monotonic() - started < 3
    assert server.status()["builds"] == 1  # and nothing rebuilds while nothing changes


def test_a_broken_file_shows_its_errors_on_every_page_until_it_is_fixed(make_site, serve):
    root = make_site(pages={"about.md": "---\ntitle: About us\n---\nWho we are.\n"})
    server = serve(root)
    builds = server.status()["builds"]
    (root / "content/practices/lapland.md").write_text(
        practice_text(title="Half-edited", start="June 2018"), encoding="utf-8")
    state = server.wait_for_build(builds)
    assert not state["ok"]
    expected = "content/practices/lapland.md:7:1: error: start: "
    assert any(e.startswith(expected) for e in state["errors"])
    for path in ["/", "/practices/", "/about/", "/practices/lapland/", "/no/such/page/"]:
        _, _, body = server.get(path)
        assert OVERLAY_ID in body and expected in body, path
        assert '   7 | start: June 2018' in body, path  # the lines around the error
    # The last good site is still there underneath.
    assert "Lapland cooperatives" in server.page("/practices/lapland/")
    assert "Half-edited" not in server.page("/practices/")
    # The terminal says the same.
    assert expected in server.output and "7 | start: June 2018" in server.output
    assert "still serving the last good version" in server.output

    builds = server.status()["builds"]
    edit_title(root, "Fixed title")
    state = server.wait_for_build(builds)
    assert state["ok"] and state["errors"] == []
    page = server.page("/practices/lapland/")
    assert "Fixed title" in page and OVERLAY_ID not in page


def test_a_link_out_of_the_content_is_shown_and_watching_goes_on(make_site, serve):
    root = make_site()
    server = serve(root)
    builds = server.status()["builds"]
    dangling = root / "content/practices/gone.md"
    dangling.symlink_to(root / "nowhere.md")
    state = server.wait_for_build(builds)
    assert not state["ok"] and OVERLAY_ID in server.page("/")
    assert "content/practices/gone.md: error: a symbolic link" in state["errors"][0]
    dangling.unlink()
    edit_title(root, "Fixed after the link")
    # The new files are served a moment before the build that made them is published.
    server.wait_for(lambda: server.status()["ok"]
                    and "Fixed after the link" in server.page("/practices/lapland/"),
                    what="a good build after the link")
    assert OVERLAY_ID not in server.page("/")


def test_a_file_saved_unchanged_keeps_the_preview_going(make_site, serve):
    root = make_site()
    server = serve(root)
    builds = server.status()["builds"]
    path = root / "content/practices/lapland.md"
    path.write_bytes(path.read_bytes())  # saved again, nothing changed: the build is up to date
    assert server.wait_for_build(builds)["ok"]
    edit_title(root, "Saved later")
    server.wait_for(lambda: "Saved later" in server.page("/practices/lapland/"), what="the next edit")


def test_a_site_that_never_built_comes_up_once_fixed(make_site, serve):
    root = make_site({"lapland.md": practice_text(themes="[nope]")})
    server = serve(root)
    status, _, body = server.get("/")
    assert status == 503 and OVERLAY_ID in body and "unknown theme 'nope'" in server.output
    edit_title(root, "Now it builds")
    server.wait_for(lambda: server.get("/")[0] == 200, what="the site to come up")
    assert "Now it builds" in server.page("/practices/lapland/")


def test_nothing_outside_the_output_folder_is_served(make_site, serve, tmp_path):
    secret = tmp_path / "secret.txt"
    secret.write_text("top secret", encoding="utf-8")
    server = serve(make_site())
    # A link planted in the preview's output folder leads out of it: not followed.
    output = next(server.scratch.glob("s3site-preview-*")) / "site"
    (output / "escape").symlink_to(tmp_path)
    (output / "escape.txt").symlink_to(secret)
    for path in ["/../../../../etc/passwd", "/%2e%2e/%2e%2e/%2e%2e/etc/passwd",
                 "/practices/..%2f..%2f..%2f..%2fetc/passwd", "/assets/%2e%2e/%2e%2e/secret.txt",
                 "/..", "/escape/secret.txt", "/escape.txt", "/escape/", "/.s3site-output",
                 "/a%00b", "/..%5c..%5cetc%5cpasswd"]:
        status, _, body = server.get(path)
        assert status == 404, path
        assert "top secret" not in body and "root:" not in body, path


def test_sub_path_layout_matches_production(make_site, serve):
    site = "title: Sub\nbase_url: https://example.org/good/practices/\n"
    root = make_site(site=site, pages={"about.md": "---\ntitle: About\n---\nHi\n"})
    server = serve(root)
    assert server.base_path == "/good/practices/"
    home = server.page("/good/practices/")
    assert f'href="http://127.0.0.1:{server.port}/good/practices/"' in home  # canonical
    links = [link for link in page_links(home) if link.startswith("/")]
    assert links and all(link.startswith("/good/practices/") for link in links), links
    for link in links:
        status, _, _ = server.get(link.split("#")[0])
        assert status == 200, link
    assert "Lapland cooperatives" in server.page("/good/practices/practices/lapland/")
    for short in ["/", "/good/practices"]:
        status, headers, _ = server.get(short)
        assert (status, headers["location"]) == (302, "/good/practices/"), short
    for outside in ["/practices/lapland/", "/about/", "/good/", "/assets/s3site.css"]:
        status, _, body = server.get(outside)
        assert status == 404 and "Page not found" in body, outside
        assert 'href="/good/practices/practices/"' in body  # the site's own 404 page


def test_drafts_show_in_the_preview_with_a_banner_and_nowhere_else(make_site, serve, run):
    root = make_site({"lapland.md": practice_text(),
                      "secret.md": practice_text(title="Secret plan", draft="true")})
    server = serve(root)
    page = server.page("/practices/secret/")
    assert "Secret plan" in page and 'class="draft-banner"' in page
    hidden = serve(root, "--no-drafts")
    assert hidden.get("/practices/secret/")[0] == 404
    assert "Secret plan" not in hidden.page("/practices/")
    status, _, err = run("build", "--root", root)
    assert status == 0, err
    assert not (root / "output/practices/secret").exists()
    assert "Secret plan" not in (root / "output/practices/index.html").read_text()


def test_reload_script_is_only_in_served_pages(make_site, serve, run):
    root = make_site()
    server = serve(root)
    assert LIVE_SCRIPT_ID in server.page("/")
    output = next(server.scratch.glob("s3site-preview-*")) / "site"
    built = list(output.rglob("*.html"))
    assert built and not [p for p in built if LIVE_SCRIPT_ID in p.read_text()]
    assert not (root / "output").exists()  # the preview never touches the user's output/
    status, _, err = run("build", "--root", root)
    assert status == 0, err
    assert not [p for p in (root / "output").rglob("*") if p.is_file()
                and LIVE_SCRIPT_ID.encode() in p.read_bytes()]


def test_twenty_saves_within_100_ms_make_at_most_two_rebuilds(make_site, serve):
    root = make_site()
    server = serve(root)
    builds = server.status()["builds"]
    # Written beside the site, then moved in (a save by rename, as many editors do): twenty
    # renames take a millisecond or so even on a busy machine.
    ready = root.parent / "ready"
    ready.mkdir()
    for i in range(20):
        (ready / f"p{i:02}.md").write_text(practice_text(title=f"Burst {i}"), encoding="utf-8")
    started = time.monotonic()
    for written in sorted(ready.iterdir()):
        written.replace(root / "content/practices" / written.name)
    assert time.monotonic() - started < 0.1
    server.wait_for_build(builds)
    # Quiet for a while: no more builds are coming.
    last, settled = server.status()["builds"], time.monotonic()
    while time.monotonic() - settled < 1.5:
        time.sleep(0.1)
        now = server.status()["builds"]
        if now != last:
            last, settled = now, time.monotonic()
    assert last - builds <= 2, server.output
    data = json.loads(server.page("/practices.json"))
    assert len(data["practices"] if isinstance(data, dict) else data) == 21


@pytest.mark.parametrize("stop", [signal.SIGINT, signal.SIGTERM], ids=["ctrl-c", "kill"])
def test_ctrl_c_or_kill_stops_cleanly_leaving_nothing_behind(make_site, serve, stop):
    root = make_site()
    server = serve(root)
    assert list(server.scratch.iterdir())  # the preview's temporary folder, while it runs
    state = server.status()
    waiting = threading.Thread(target=server.get, daemon=True, args=(
        f"/__s3site__/wait?server={state['server']}&generation={state['generation']}",))
    waiting.start()  # a browser holding a reload request open must not delay the stop
    time.sleep(0.2)
    started = time.monotonic()
    assert server.interrupt(stop) == 0
    assert time.monotonic() - started < 3
    assert "Stopped the preview." in server.output and "Traceback" not in server.output
    assert list(server.scratch.iterdir()) == []
    # Only the build's own cache may stay (as after `s3site build`): no output/, no staging folder.
    assert {p.name for p in root.iterdir()} - {".s3site-cache"} == {"content"}


def test_a_port_in_use_is_reported(make_site, tmp_path):
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        env = dict(os.environ, TMPDIR=str(tmp_path))
        result = subprocess.run(
            [sys.executable, "-m", "s3site", "serve", "--root", str(make_site()),
             "--port", str(port)],
            cwd=REPO, env=env, capture_output=True, text=True, timeout=60)
    assert result.returncode == 1
    assert f"cannot listen on 127.0.0.1:{port}" in result.stderr
    assert not list(tmp_path.glob("s3site-preview-*"))


# --- The parts, in process -------------------------------------------------------------------


def test_resolve_request_refuses_to_leave_the_output_folder(tmp_path):
    output = tmp_path / "site"
    (output / "a").mkdir(parents=True)
    (output / "a/index.html").write_text("a")
    (output / "x.css").write_text("x")
    (tmp_path / "outside.txt").write_text("no")
    (output / "link.txt").symlink_to(tmp_path / "outside.txt")
    (output / "inner.css").symlink_to(output / "x.css")  # a link inside stays fine
    assert resolve_request(output, "/", "/x.css").file == (output / "x.css").resolve()
    assert resolve_request(output, "/", "/inner.css").file == (output / "x.css").resolve()
    assert resolve_request(output, "/", "/a/").file == (output / "a/index.html").resolve()
    assert resolve_request(output, "/", "/a").redirect == "/a/"
    assert resolve_request(output, "/sub/", "/").redirect == "/sub/"
    assert resolve_request(output, "/sub/", "/sub").redirect == "/sub/"
    for bad in ["/link.txt", "/../outside.txt", "/a/../../outside.txt", "/%2E%2E/outside.txt",
                "/a/%2e%2e/x.css", "/missing"]:
        found = resolve_request(output, "/", bad)
        assert found.file is None and found.redirect is None, bad
    assert resolve_request(output, "/sub/", "/x.css").file is None


def test_watcher_sees_edits_additions_removals_and_ignores_editor_files(tmp_path):
    practices = tmp_path / "content/practices"
    practices.mkdir(parents=True)
    (practices / "a.md").write_text("a")
    watcher = Watcher(tmp_path)
    assert watcher.changes() == set()
    (practices / "a.md").write_text("changed, same mtime tick or not")
    (practices / "b.md").write_text("b")
    (practices / ".a.md.swp").write_text("vim")
    (practices / "a.md~").write_text("backup")
    assert watcher.changes() == {"content/practices/a.md", "content/practices/b.md"}
    (practices / "b.md").unlink()
    (tmp_path / "templates").mkdir()
    (tmp_path / "templates/base.html").write_text("x")
    assert watcher.changes() == {"content/practices/b.md", "templates/base.html"}


def test_the_rebuild_loop_survives_anything_and_debounces(tmp_path, monkeypatch):
    """The loop must never die, or pages silently stop reloading."""
    root = tmp_path / "site"
    (root / "content").mkdir(parents=True)
    state = State()
    preview = Preview(root, tmp_path / "out", "http://127.0.0.1:1", drafts=True, strict=False,
                      state=state)
    calls: list[int] = []
    real_changes = preview.watcher.changes

    def flaky_changes() -> set[str]:
        calls.append(1)
        if len(calls) == 1:
            raise OSError("the disk hiccuped")
        return real_changes()

    builds: list[float] = []

    def fake_build(*args, **kwargs):
        builds.append(time.monotonic())
        if len(builds) == 1:
            raise RuntimeError("a bug in a build stage")
        raise SiteError([error("content/site.yaml", "still broken")])

    monkeypatch.setattr(preview.watcher, "changes", flaky_changes)
    monkeypatch.setattr("s3site.builder.build", fake_build)
    stop = threading.Event()
    loop = threading.Thread(target=preview.run, args=(stop,))
    loop.start()
    try:
        deadline = time.monotonic() + 10
        while len(calls) < 2 and time.monotonic() < deadline:
            time.sleep(0.01)
        for i in range(10):  # a burst: one build
            (root / "content" / f"f{i}.md").write_text("x")
            time.sleep(0.01)
        while state.builds < 1 and time.monotonic() < deadline:
            time.sleep(0.01)
        assert "internal error: RuntimeError: a bug in a build stage" in state.errors[0]
        time.sleep(0.5)
        assert len(builds) == 1
        (root / "content/f0.md").write_text("again")  # still watching after the crash
        while state.builds < 2 and time.monotonic() < deadline:
            time.sleep(0.01)
        assert state.errors == ("content/site.yaml: error: still broken",)
        assert loop.is_alive()
    finally:
        stop.set()
        loop.join(5)
    assert not loop.is_alive()


# --- In a browser ----------------------------------------------------------------------------


def edit_and_wait_for_reload(page, edit: Callable[[], None], *, timeout: float = 5) -> float:
    """Make an edit; wait until the page reloads by itself; return the seconds it took."""
    page.evaluate("window.__s3site_test_marker = true")
    with page.expect_event("load", timeout=timeout * 1000):
        saved = time.monotonic()
        edit()
    reloaded = time.monotonic() - saved
    assert page.evaluate("window.__s3site_test_marker === undefined"), "the page was not reloaded"
    return reloaded


@pytest.mark.browser
def test_browser_reloads_by_itself_after_an_edit_and_after_twenty_in_a_row(make_site, serve,
                                                                          browser_page):
    from playwright.sync_api import expect

    root = make_site()
    server = serve(root)
    page = browser_page
    page.goto(server.url + "practices/lapland/")
    expect(page.locator("h1")).to_have_text("Lapland cooperatives")
    for i in range(21):
        title = f"Edit number {i}"
        edit_and_wait_for_reload(page, lambda title=title: edit_title(root, title))
        expect(page.locator("h1")).to_have_text(title, timeout=5000)

    # A broken save shows the errors over the page; the fix brings the page back.
    edit_and_wait_for_reload(page, lambda: (root / "content/practices/lapland.md").write_text(
        practice_text(title="Broken", start="June 2018"), encoding="utf-8"))
    expect(page.locator(f"#{OVERLAY_ID}")).to_contain_text("content/practices/lapland.md:7:1")
    expect(page.locator("h1")).to_have_text("Edit number 20")
    edit_and_wait_for_reload(page, lambda: edit_title(root, "Fixed"))
    expect(page.locator("h1")).to_have_text("Fixed")
    expect(page.locator(f"#{OVERLAY_ID}")).to_have_count(0)


@pytest.mark.browser
def test_browser_page_an_edit_did_not_change_stays_and_reloads_when_changed(make_site, serve,
                                                                           browser_page):
    root = make_site()
    server = serve(root)
    page = browser_page
    page.goto(server.url + "stats/")
    page.evaluate("window.__s3site_test_marker = true")
    builds = server.status()["builds"]
    edit_title(root, "Lapland renamed")  # no count changes: the statistics stay as they are
    server.wait_for_build(builds)
    time.sleep(0.5)
    assert page.evaluate("window.__s3site_test_marker === true"), "reloaded for nothing"
    # Having heard of that build without reloading, the page still reloads for its own change.
    new = root / "content/practices/new.md"
    edit_and_wait_for_reload(page, lambda: new.write_text(practice_text(title="New"), encoding="utf-8"))


@pytest.mark.browser
def test_browser_page_comes_back_after_the_server_restarts(make_site, serve, browser_page):
    from playwright.sync_api import expect

    root = make_site()
    first = serve(root)
    page = browser_page
    page.goto(first.url + "practices/lapland/")
    assert first.interrupt() == 0
    # While the server is away the page keeps retrying; a new run is a new site: reload.
    edit_title(root, "While it was down")
    page.evaluate("window.__s3site_test_marker = true")
    second = Server(root, first.scratch, "--port", str(first.port))
    try:
        expect(page.locator("h1")).to_have_text("While it was down", timeout=10000)
        assert page.evaluate("window.__s3site_test_marker === undefined")
        edit_and_wait_for_reload(page, lambda: edit_title(root, "And after"))
        expect(page.locator("h1")).to_have_text("And after")
    finally:
        second.stop()


@pytest.mark.browser
def test_browser_shows_a_save_within_a_second_on_the_example_site(tmp_path, serve, browser_page):
    from playwright.sync_api import expect

    root = tmp_path / "example"
    shutil.copytree(REPO / "content", root / "content")
    if (REPO / "templates").is_dir():
        shutil.copytree(REPO / "templates", root / "templates")
    server = serve(root)
    source = root / "content/practices/basque-cluster-policy.md"
    original = source.read_text(encoding="utf-8")
    page = browser_page
    page.goto(server.url + "practices/basque-cluster-policy/")
    times = []
    for i in range(5):
        title = f"Basque cluster policy, edit {i}"
        text = re.sub(r"(?m)^title: .*$", f"title: {title}", original, count=1)
        times.append(edit_and_wait_for_reload(
            page, lambda text=text: source.write_text(text, encoding="utf-8")))
        expect(page.locator("h1")).to_have_text(title)
    print("save to reload on the example site:", ", ".join(f"{t:.2f} s" for t in times))
    # About 0.6 s on an idle machine; most of it is the build. The margin is for a busy CI.
    assert statistics.median(times) < 1.5, times


def test_watcher_looks_again_at_the_files_it_saw_changing(tmp_path):
    practices = tmp_path / "content/practices"
    practices.mkdir(parents=True)
    (practices / "a.md").write_text("a")
    (practices / "b.md").write_text("b")
    watcher = Watcher(tmp_path)
    assert not watcher.changed_again(["content/practices/a.md"])
    (practices / "a.md").write_text("a, longer")
    (practices / "b.md").write_text("b, not asked about")
    assert watcher.changed_again(["content/practices/a.md"])
    assert not watcher.changed_again(["content/practices/a.md"])  # seen now
    (practices / "a.md").unlink()
    assert watcher.changed_again(["content/practices/a.md"])
    # The whole look still finds what was not looked at, and not again what was.
    assert watcher.changes() == {"content/practices/b.md"}


# --- The edited page first, and reloading only the pages that changed -----------------------


def test_an_edited_practice_page_made_alone_is_the_page_the_build_makes(make_site, tmp_path):
    root = make_site({"lapland.md": practice_text(),
                      "other.md": practice_text(title="Other practice", summary="Something else.")})
    output, memory = tmp_path / "out", {}
    build(root, output=output, memory=memory, workers=1)
    (root / "content/practices/lapland.md").write_text(practice_text(
        title="Lapland renamed", body="New text.\n\n## Resources needed\n\nTime.\n"), encoding="utf-8")
    made = render_edited(memory["quick"], ["content/practices/lapland.md"])
    assert made is not None and set(made) == {"practices/lapland/index.html",
                                              "practices/lapland/index.json"}
    assert b"Lapland renamed" in made["practices/lapland/index.html"]
    assert b"Other practice" in made["practices/lapland/index.html"]  # its related practice
    build(root, output=output, memory=memory, workers=1)
    for path, data in made.items():
        assert (output / path).read_bytes() == data, path


@pytest.mark.parametrize("change", ["new file", "error", "new slug", "deleted", "themes", "draft"])
def test_edits_a_page_made_alone_could_get_wrong_are_left_to_the_build(make_site, tmp_path, change):
    root = make_site()
    memory: dict = {}
    build(root, output=tmp_path / "out", memory=memory, workers=1, drafts=False)
    practices = root / "content/practices"
    source = "content/practices/lapland.md"
    if change == "new file":
        (practices / "new.md").write_text(practice_text(title="New"), encoding="utf-8")
        source = "content/practices/new.md"
    elif change == "error":
        (practices / "lapland.md").write_text(practice_text(start="June 2018"), encoding="utf-8")
    elif change == "new slug":
        (practices / "lapland.md").write_text(practice_text(slug="lappi"), encoding="utf-8")
    elif change == "deleted":
        (practices / "lapland.md").unlink()
    elif change == "themes":
        source = "content/themes.yaml"
    elif change == "draft":  # a draft is not on a site built without drafts
        (practices / "lapland.md").write_text(practice_text(draft="true"), encoding="utf-8")
    assert render_edited(memory["quick"], [source]) is None
    # The same file, edited as it may be, is made alone.
    (practices / "lapland.md").write_text(practice_text(title="Fine"), encoding="utf-8")
    assert render_edited(memory["quick"], ["content/practices/lapland.md"]) is not None


def test_changed_pages_are_named_by_url_and_a_stylesheet_reloads_them_all():
    changed = ["index.html", "practices/a/index.html", "404.html", "practices.json", "feed.xml",
               "practices/a/index.json", "pagefind/fragment/x.pf_fragment", "practices.csv"]
    assert changed_pages(changed, "/sub/") == {"/sub/", "/sub/practices/a/", "/sub/404.html"}
    assert changed_pages(["index.html", "assets/s3site.css"], "/") is None
    assert changed_pages(["images/map.png"], "/") is None
    assert changed_pages([], "/") == frozenset()


def test_a_page_reloads_only_after_a_generation_that_changed_it():
    state = State()
    state.publish(None)  # 1: every page
    state.publish(frozenset({"/a/"}))  # 2
    state.publish(frozenset({"/b/"}), build=False)  # 3
    assert (state.generation, state.builds) == (3, 2)
    me = state.server_id
    with state.changed:
        assert not state.stale(me, 3, "/a/")  # up to date
        assert not state.stale(me, 2, "/a/")  # only /b/ changed since
        assert state.stale(me, 2, "/b/")
        assert state.stale(me, 1, "/a/")
        assert state.stale(me, 0, "/c/")  # generation 1 changed every page
        assert state.stale(me, 2, "")  # a page that does not say which it is
        assert state.stale("an-earlier-server-run", 3, "/a/")
    answer = state.wait(me, 2, 0, "/a/")
    assert (answer["reload"], answer["generation"]) == (False, 3)
    assert state.wait(me, 2, 0, "/b/")["reload"] is True
    for _ in range(HISTORY):
        state.publish(frozenset())
    with state.changed:  # every generation since is still remembered
        assert not state.stale(me, 3, "/a/")
    state.publish(frozenset())
    with state.changed:  # too old to know what changed since: reload
        assert state.stale(me, 3, "/a/")
        assert not state.stale(me, state.generation - 1, "/a/")


def test_the_edited_page_is_served_before_the_build_and_unchanged_pages_stay(make_site, tmp_path):
    root = make_site({"lapland.md": practice_text(),
                      "other.md": practice_text(title="Other practice", summary="Something else.")})
    state = State()
    output = tmp_path / "preview" / "site"
    preview = Preview(root, output, "http://127.0.0.1:1", drafts=True, strict=False, state=state)
    preview.rebuild()
    server = PreviewServer(("127.0.0.1", 0), state, output)
    serving = threading.Thread(target=server.serve_forever, daemon=True)
    serving.start()

    def get(path: str) -> str:
        with urllib.request.urlopen(f"http://127.0.0.1:{server.server_address[1]}{path}", timeout=10) as r:
            return r.read().decode()

    try:
        page = get("/practices/lapland/")
        assert 'data-page="/practices/lapland/"' in page and "Lapland cooperatives" in page
        edit_title(root, "Lapland renamed")
        builds, generation = state.builds, state.generation
        preview.show_edits(["content/practices/lapland.md"])
        assert (state.builds, state.generation) == (builds, generation + 1)
        assert "Lapland renamed" in get("/practices/lapland/")  # made alone, served from memory
        assert "Lapland renamed" not in get("/practices/")  # the list waits for the build
        with state.changed:
            assert state.stale(state.server_id, generation, "/practices/lapland/")
            assert not state.stale(state.server_id, generation, "/practices/")
        preview.rebuild(["content/practices/lapland.md"])
        assert state.quick == {} and state.builds == builds + 1
        assert "Lapland renamed" in get("/practices/")
        with state.changed:
            # A page shown after the early one does not reload for the same bytes again;
            # the lists that show the new title do, and a page without it does not.
            assert not state.stale(state.server_id, generation + 1, "/practices/lapland/")
            assert state.stale(state.server_id, generation + 1, "/practices/")
            assert not state.stale(state.server_id, generation + 1, "/stats/")
    finally:
        server.shutdown()
        server.server_close()


def test_a_save_while_the_preview_indexes_stops_the_indexing(make_site, tmp_path, monkeypatch):
    from test_search import slow_pagefind

    root = make_site()
    state = State()
    preview = Preview(root, tmp_path / "preview", "http://127.0.0.1:1", drafts=True, strict=False,
                      state=state)
    preview.rebuild()  # the first build, before any watching, indexes in full
    assert (tmp_path / "preview/pagefind/pagefind-entry.json").is_file()
    monkeypatch.setenv("PAGEFIND_BINARY_PATH", str(slow_pagefind(tmp_path)))

    class Told:  # the watcher, told of another save while the build runs
        told = threading.Event()

    preview.notifier = Told()  # type: ignore[assignment]
    edit_title(root, "First save")
    threading.Timer(0.5, Told.told.set).start()
    started = time.monotonic()
    preview.rebuild(["content/practices/lapland.md"])
    assert time.monotonic() - started < 20 and state.ok
    assert "First save" in (tmp_path / "preview/practices/lapland/index.html").read_text()
    assert (tmp_path / "preview/pagefind/pagefind-entry.json").is_file()  # the last index, kept


def test_a_save_the_last_build_already_showed_reloads_no_page(make_site, tmp_path):
    root = make_site()
    state = State()
    preview = Preview(root, tmp_path / "preview", "http://127.0.0.1:1", drafts=True, strict=False,
                      state=state)
    preview.rebuild()
    edit_title(root, "First save")
    preview.show_edits(["content/practices/lapland.md"])
    edit_title(root, "Second save")  # saved while the build runs, which reads it
    preview.rebuild(["content/practices/lapland.md"])
    assert "Second save" in (tmp_path / "preview/practices/lapland/index.html").read_text()
    shown = state.generation  # the page reloaded by this build shows the second save
    preview.show_edits(["content/practices/lapland.md"])  # only now told of the second save
    preview.rebuild(["content/practices/lapland.md"])
    with state.changed:
        assert not state.stale(state.server_id, shown, "/practices/lapland/")
    edit_title(root, "Third save")  # a save not shown yet still reloads the page at once
    preview.show_edits(["content/practices/lapland.md"])
    with state.changed:
        assert state.stale(state.server_id, shown, "/practices/lapland/")
        assert b"Third save" in state.quick["practices/lapland/index.html"]


@contextlib.contextmanager
def _watching(root: Path) -> Iterator[tuple[Preview, list[list[str]]]]:
    """Run a preview's loop on a site, with builds recorded instead of made; stop it after."""
    preview = Preview(root, root / "unused", "http://127.0.0.1:1", drafts=True, strict=False,
                      state=State())
    builds: list[list[str]] = []
    preview.rebuild = lambda changed=(): builds.append(list(changed))  # type: ignore[method-assign]
    preview.show_edits = lambda changed: None  # type: ignore[method-assign]
    stop = threading.Event()
    loop = threading.Thread(target=preview.run, args=(stop,), daemon=True)
    loop.start()
    try:
        yield preview, builds
    finally:
        stop.set()
        loop.join(5)
    assert not loop.is_alive()


def _wait_until(condition: Callable[[], object], deadline: float) -> None:
    while not condition() and time.monotonic() < deadline:
        time.sleep(0.01)


def test_a_save_is_told_by_the_system_without_waiting_for_a_whole_look(make_site, monkeypatch):
    root = make_site()
    monkeypatch.setattr("s3site.server.LOOK_WHILE_TOLD", 3600.0)  # one whole look, at the start
    with _watching(root) as (preview, builds):
        deadline = time.monotonic() + 5
        # Until then whole looks still come often, in case the system's watches are not set up.
        _wait_until(lambda: preview.notifier and preview.notifier.trusted(), deadline)
        edit_title(root, "Told")
        _wait_until(lambda: builds, deadline + 5)
        assert builds == [["content/practices/lapland.md"]]
        assert preview.notifier is not None and preview.notifier.listening


def test_a_save_made_before_the_systems_watches_are_set_up_is_found_by_a_look(make_site, monkeypatch):
    def watches_that_tell_nothing(*args, stop_event, **kwargs):
        stop_event.wait()  # as if set up after the save: it is never told of
        return iter(())

    monkeypatch.setattr("watchfiles.watch", watches_that_tell_nothing)
    root = make_site()
    with _watching(root) as (preview, builds):
        _wait_until(lambda: preview.notifier and preview.notifier.listening, time.monotonic() + 5)
        time.sleep(0.2)  # past the first whole look
        edit_title(root, "Saved early")
        saved = time.monotonic()
        _wait_until(lambda: builds, saved + 5)
        assert builds == [["content/practices/lapland.md"]]
        assert time.monotonic() - saved < WATCHES_SET_UP  # not left to the next slow look


def test_without_the_systems_help_the_whole_looks_still_find_a_save(make_site, monkeypatch):
    def no_watches(*args, **kwargs):
        raise OSError("OS file watch limit reached")

    monkeypatch.setattr("watchfiles.watch", no_watches)
    root = make_site()
    with _watching(root) as (preview, builds):
        deadline = time.monotonic() + 5
        _wait_until(lambda: preview.notifier is not None and not preview.notifier.listening, deadline)
        assert preview.notifier is not None and not preview.notifier.listening
        edit_title(root, "Looked at")
        _wait_until(lambda: builds, deadline + 5)
        assert builds == [["content/practices/lapland.md"]]
