"""`s3site serve`: build the site, serve it, rebuild and reload open pages on every change.

Why not the livereload package (2.7, already a dependency): its reloads are
lost in exactly the cases an editing session hits. A change seen while no
page is connected is dropped, and a page is not connected while it reloads;
a change within 3 s of the previous reload is ignored, not deferred, so the
second of two quick saves never shows; it looks at the files every 0.8 s and
runs the build inside the server's event loop, so a slow build stalls every
request; and a build that raises just logs, with its change used up and no
reload. MkDocs dropped it for a plain HTTP long-poll for such reasons. It would
also leave us to write the sub-path mount, the 404 page, the error overlay
and the path checks. So this module uses only the standard library:

* One loop (the main thread) is told of changes below content/ and templates/
  by the operating system (watchfiles), and also compares file stats now and
  then, which finds what the system cannot tell (some network mounts). It
  waits until a burst of changes has been quiet for a moment (debounce), and
  calls builder.build() into a temporary folder, never the user's output/.
  Every exception is caught there, so the loop cannot die while the server
  lives on: a SiteError becomes the error overlay, anything else an internal
  error shown the same way.
* Before that build, an edited practice's own page is made alone (quick.py)
  and served from memory, so the page being edited shows the edit at once;
  the build then makes everything else.
* Every build, good or bad, and every such page gets a new *generation*
  number, with the pages it changed. Each served HTML page carries the
  server's id, its own path and the generation it was served at, and asks
  /__s3site__/wait whether it changed since. The server answers at once when
  the generation is newer (saying whether this page must reload), else holds
  the request for up to 20 s. Since the page says what it has, no reload can
  be missed between two requests; a page of an earlier server run (other id)
  reloads when it reconnects; a failed request is retried with back-off,
  forever; hidden tabs stop polling, so many open tabs never use up the
  browser's six connections per host.
* HTTP threads serve files from the output folder, which build() swaps in
  atomically, so a page is always all old or all new. The reload script and
  the overlay are added to HTML responses on the way out, never written.
"""

from __future__ import annotations

import html
import json
import logging
import mimetypes
import os
import secrets
import shutil
import signal
import socket
import stat
import sys
import tempfile
import threading
import time
import traceback
import webbrowser
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from http import HTTPStatus
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import parse_qs, quote, unquote, urlsplit

from .config import read_settings
from .errors import Diagnostic, SiteError, error
from .output import MARKER

log = logging.getLogger(__name__)

WATCHED = ("content", "templates")  # content/ holds site.yaml, themes.yaml and static files too
ENDPOINT = "/__s3site__/"  # the preview's own requests; a site has no files of its own there
POLL_INTERVAL = 0.05  # seconds between two looks at the files (longer on big sites)
QUIET = 0.1  # a burst of changes is over when nothing changed for this long
QUIET_HEARD = 0.05  # the same, for changes the system tells of: they come all at once
MAX_WAIT = 2.0  # but build anyway after this long, for a file rewritten without pause
LOOK_WHILE_TOLD = 2.0  # seconds between whole looks while the system tells of changes
WATCHES_SET_UP = 1.0  # seconds the system may take to start telling, looked at as if it did not
WAIT_TIMEOUT = 20.0  # a reload request is answered after this long even if nothing changed
HISTORY = 200  # generations whose changed pages are remembered; an older page just reloads
# Files no page loads: a change to one reloads no page. A change to any other
# file that is not a page (a stylesheet, a script, an image) reloads them all.
NOT_LOADED_BY_PAGES = (".json", ".xml", ".csv", ".txt", ".geojson", ".webmanifest")

CONTENT_TYPES = {
    ".html": "text/html; charset=utf-8",
    ".htm": "text/html; charset=utf-8",
    ".css": "text/css; charset=utf-8",
    ".js": "text/javascript; charset=utf-8",
    ".mjs": "text/javascript; charset=utf-8",
    ".json": "application/json",
    ".map": "application/json",
    ".geojson": "application/geo+json",
    ".webmanifest": "application/manifest+json",
    ".xml": "application/xml",
    ".txt": "text/plain; charset=utf-8",
    ".md": "text/markdown; charset=utf-8",
    ".csv": "text/csv; charset=utf-8",
    ".svg": "image/svg+xml",
    ".png": "image/png",
    ".jpg": "image/jpeg",
    ".jpeg": "image/jpeg",
    ".gif": "image/gif",
    ".webp": "image/webp",
    ".avif": "image/avif",
    ".ico": "image/vnd.microsoft.icon",
    ".pdf": "application/pdf",
    ".woff": "font/woff",
    ".woff2": "font/woff2",
    ".zip": "application/zip",
}


def content_type(path: Path) -> str:
    """The Content-Type of a file; fixed for the site's own types, not the machine's mime.types."""
    known = CONTENT_TYPES.get(path.suffix.lower())
    if known:
        return known
    guessed, _ = mimetypes.guess_type(path.name, strict=False)
    return guessed or "application/octet-stream"


# --- Watching --------------------------------------------------------------------------------


def _ignored(name: str) -> bool:
    """Editor droppings (.swp, foo~, .#lock) and hidden files: the build ignores them too."""
    return name.startswith((".", "#")) or name.endswith("~")


def _ignored_path(relative: str) -> bool:
    """A path (relative to the site root) in or below an ignored file or folder."""
    return any(_ignored(part) for part in Path(relative).parts)


class Watcher:
    """Notices changed, added and removed files by comparing stat snapshots.

    Polling rather than inotify: it sees saves done by rename, files in new
    folders and changes on network or container mounts alike, and on a site
    of a few thousand files one look costs a few milliseconds.
    """

    def __init__(self, root: Path, folders: Sequence[str] = WATCHED) -> None:
        self.root = root
        self.folders = folders
        self.seconds = 0.0  # how long the last look took
        self.files = self.snapshot()

    def snapshot(self) -> dict[str, tuple[int, int, int]]:
        started = time.perf_counter()
        found: dict[str, tuple[int, int, int]] = {}
        for folder in self.folders:
            for directory, subdirs, names in os.walk(self.root / folder):
                subdirs[:] = [d for d in subdirs if not _ignored(d)]
                for name in names:
                    if _ignored(name):
                        continue
                    path = os.path.join(directory, name)
                    try:
                        st = os.stat(path)
                    except OSError:  # gone since listed, or a dangling link: the build will say
                        st = None
                    # The inode catches a save by rename within the same mtime tick.
                    found[path] = (st.st_mtime_ns, st.st_size, st.st_ino) if st else (0, -1, 0)
        self.seconds = time.perf_counter() - started
        return found

    def changes(self) -> set[str]:
        """Paths (relative to the site root) changed since the last call."""
        now = self.snapshot()
        before = self.files
        self.files = now
        changed = {p for p in now.keys() | before.keys() if now.get(p) != before.get(p)}
        return {os.path.relpath(p, self.root) for p in changed}

    def changed_among(self, paths: Iterable[str]) -> set[str]:
        """Which of these paths (relative to the site root) changed since last looked at.

        Looks at them alone: a few stat calls, where a whole look at a big
        site takes a tenth of a second. Folders and ignored files are no
        change: the whole look does not count them either.
        """
        changed = set()
        for relative in paths:
            if _ignored_path(relative):
                continue
            path = os.path.join(self.root, relative)
            try:
                st = os.stat(path)
                now = None if stat.S_ISDIR(st.st_mode) else (st.st_mtime_ns, st.st_size, st.st_ino)
            except OSError:
                now = None
            if now != self.files.get(path):
                changed.add(relative)
                if now is None:
                    self.files.pop(path, None)
                else:
                    self.files[path] = now
        return changed

    def changed_again(self, paths: Iterable[str]) -> bool:
        """Whether any of these paths changed since last looked at."""
        return bool(self.changed_among(paths))

    @property
    def interval(self) -> float:
        # Never spend more than a fifth of the time looking, however big the site.
        return max(POLL_INTERVAL, 5 * self.seconds)


class Notifier:
    """Is told of changed files by the operating system, through watchfiles.

    A whole look at the files of a big site takes a tenth of a second, so it
    can only be done a few times a second; told by the system, the preview
    sees a save within milliseconds. Where the system cannot tell (no
    watches left, some network mounts), the whole looks still find every
    change, only later.
    """

    def __init__(self, root: Path, folders: Sequence[str], stop: threading.Event) -> None:
        self.root = root
        self.folders = [root / folder for folder in folders if (root / folder).is_dir()]
        self.stop = stop
        self.listening = False
        self.started = 0.0
        self.told = threading.Event()
        self._heard: set[str] = set()
        self._lock = threading.Lock()

    def start(self) -> None:
        if self.folders:
            self.listening = True
            self.started = time.monotonic()
            threading.Thread(target=self._listen, name="s3site-notifier", daemon=True).start()

    def _wanted(self, change: object, path: str) -> bool:
        return not _ignored_path(os.path.relpath(path, self.root))

    def _listen(self) -> None:
        try:
            import watchfiles

            for changes in watchfiles.watch(
                *self.folders, watch_filter=self._wanted, debounce=int(MAX_WAIT * 1000),
                step=int(QUIET_HEARD * 1000), stop_event=self.stop, raise_interrupt=False,
            ):
                with self._lock:
                    self._heard.update(os.path.relpath(path, self.root) for _, path in changes)
                self.told.set()
        except Exception as exc:  # no watches left, or no such facility here
            log.info("not told of changes by the system (%s): looking at the files instead", exc)
        finally:
            self.listening = False
            self.told.set()

    def trusted(self) -> bool:
        """Whether a change now would be told of: listening, and long enough for the
        system's watches to be set up (a save just after the start would be missed)."""
        return self.listening and time.monotonic() - self.started >= WATCHES_SET_UP

    def take(self) -> set[str]:
        """The paths (relative to the site root) told of since the last call."""
        with self._lock:
            heard, self._heard = self._heard, set()
            self.told.clear()
        return heard


# --- State shared by the build loop and the HTTP threads -------------------------------------


@dataclass
class State:
    """What the server currently serves, guarded by `changed` (a Condition)."""

    server_id: str = field(default_factory=lambda: secrets.token_hex(6))
    generation: int = 0
    builds: int = 0
    has_site: bool = False  # a build has succeeded at least once
    ok: bool = False  # the last build succeeded
    base_path: str = "/"
    errors: tuple[str, ...] = ()  # the last failed build's diagnostics, as text
    overlay: str = ""  # their HTML, added to every page while the build is broken
    # Edited practices' pages made ahead of the build (quick.py), served instead of the
    # output folder's files until the build is done; by output path.
    quick: dict[str, bytes] = field(default_factory=dict)
    # The URL paths of the pages each recent generation changed (None: every page).
    history: list[tuple[int, frozenset[str] | None]] = field(default_factory=list)
    closing: bool = False
    changed: threading.Condition = field(default_factory=threading.Condition)

    def publish(self, pages: frozenset[str] | None = None, *, build: bool = True,
                **values: object) -> None:
        """Apply a build's outcome (or pages made ahead of one) and wake every waiting page.

        `pages` are the URL paths of the pages that changed; None means all.
        """
        with self.changed:
            for name, value in values.items():
                setattr(self, name, value)
            if build:
                self.builds += 1
            self.generation += 1
            self.history = [*self.history[-(HISTORY - 1):], (self.generation, pages)]
            self.changed.notify_all()

    def stale(self, server_id: str, generation: int, page: str) -> bool:
        """Whether a page served at `generation` must reload (call holding `changed`).

        A page that does not say which it is (or a generation too old to
        know) reloads on any change.
        """
        if server_id != self.server_id:
            return True
        if generation == self.generation:
            return False
        if not page or not self.history or generation < self.history[0][0] - 1 or generation > self.generation:
            return True
        return any(pages is None or page in pages for number, pages in self.history if number > generation)

    def wait(self, server_id: str, generation: int, timeout: float, page: str = "") -> dict[str, object]:
        """Block until the state differs from what a page has, or the timeout; return it,
        with whether that page must reload."""
        with self.changed:
            self.changed.wait_for(
                lambda: (self.closing or server_id != self.server_id
                         or generation != self.generation),
                timeout=timeout,
            )
            return {**self.status(), "reload": self.stale(server_id, generation, page)}

    def status(self) -> dict[str, object]:
        return {"server": self.server_id, "generation": self.generation, "builds": self.builds,
                "ok": self.ok, "base_path": self.base_path, "errors": list(self.errors)}

    def close(self) -> None:
        with self.changed:
            self.closing = True
            self.changed.notify_all()


# --- Error reports ---------------------------------------------------------------------------


def excerpt(root: Path, diagnostic: Diagnostic, around: int = 2) -> list[tuple[int, str]]:
    """The lines of the file around a diagnostic's line, numbered from 1."""
    if not diagnostic.line:
        return []
    path = (root / diagnostic.path).resolve()
    if root not in path.parents or not path.is_file():  # only the site's own files
        return []
    try:
        lines = path.read_text(encoding="utf-8-sig", errors="replace").splitlines()
    except OSError:
        return []
    first = max(diagnostic.line - around, 1)
    last = min(diagnostic.line + around, len(lines))
    return [(n, lines[n - 1]) for n in range(first, last + 1)]


def report_text(root: Path, diagnostics: Iterable[Diagnostic]) -> str:
    """Diagnostics as the terminal shows them: path:line:col: message, then the lines around."""
    out = []
    for diagnostic in diagnostics:
        out.append(str(diagnostic))
        for number, text in excerpt(root, diagnostic):
            mark = ">" if number == diagnostic.line else " "
            out.append(f"  {mark} {number:4} | {text}")
    return "\n".join(out)


def report_html(root: Path, diagnostics: Sequence[Diagnostic]) -> str:
    """The overlay shown on every page while the site does not build."""
    errors = [d for d in diagnostics if d.severity == "error"]
    items = []
    for diagnostic in diagnostics:
        lines = "".join(
            f'<span style="display:block;{"background:#5c1f1f;" if n == diagnostic.line else ""}">'
            f"{n:4} | {html.escape(text)}</span>"
            for n, text in excerpt(root, diagnostic)
        )
        pre = '<pre style="margin:.3em 0 0;padding:.4em;background:#111;overflow:auto">'
        code = f"{pre}{lines}</pre>" if lines else ""
        items.append(f'<li style="margin:0 0 .8em">{html.escape(str(diagnostic))}{code}</li>')
    count = f"{len(errors)} error{'s' if len(errors) != 1 else ''}"
    return (
        '<div id="s3site-error-overlay" role="alert" style="position:fixed;inset:0 0 auto 0;'
        "z-index:2147483647;max-height:70vh;overflow:auto;margin:0;padding:1em 1.5em;"
        "background:#2b1111;color:#fde8e8;font:14px/1.4 ui-monospace,monospace;"
        'border-bottom:4px solid #e5484d;text-align:left">'
        '<button type="button" onclick="this.parentNode.remove()" style="float:right;font:inherit"'
        ' aria-label="Hide the errors">Hide</button>'
        f'<p style="margin:0 0 .8em;font-weight:bold">s3site: the site does not build ({count}). '
        "You are seeing the last good version; it comes back by itself when the files are fixed."
        "</p>"
        f'<ol style="margin:0;padding-left:1.5em">{"".join(items)}</ol></div>'
    )


# The page asks whether it changed since it was served, and reloads if so.
LIVE_SCRIPT = """<script id="s3site-live" data-server="%(server)s" data-generation="%(generation)d" \
data-page="%(page)s">
(function () {
  var me = document.currentScript, server = me.dataset.server, generation = me.dataset.generation;
  var page = encodeURIComponent(me.dataset.page), request = null, delay = 250;
  function poll() {
    if (request || document.hidden) return;
    var controller = new AbortController();
    request = controller;
    fetch("%(endpoint)swait?server=" + server + "&generation=" + generation + "&page=" + page,
          {cache: "no-store", signal: controller.signal})
      .then(function (r) { if (!r.ok) throw new Error(r.status); return r.json(); })
      .then(function (state) {
        request = null; delay = 250;
        if (state.server !== server || state.reload) { location.reload(); return; }
        generation = String(state.generation);  // other pages changed, not this one
        poll();
      })
      .catch(function () {
        if (controller.signal.aborted) return;  // the tab was hidden: polls again when shown
        // The server is down or restarting: keep trying, a little slower each time.
        request = null;
        setTimeout(poll, delay);
        delay = Math.min(delay * 2, 4000);
      });
  }
  document.addEventListener("visibilitychange", function () {
    if (!document.hidden) { poll(); return; }
    if (request) { var r = request; request = null; r.abort(); }
  });
  window.addEventListener("pageshow", poll);
  poll();
})();
</script>"""


def inject(page: bytes, state: State, url_path: str = "") -> bytes:
    """Add the reload script, and the errors if any, before </body>.

    `url_path` is the page's own (see page_path); without it the page
    reloads on any change.
    """
    snippet = state.overlay + LIVE_SCRIPT % {
        "server": state.server_id, "generation": state.generation, "endpoint": ENDPOINT,
        "page": html.escape(url_path)}
    at = page.lower().rfind(b"</body>")
    if at < 0:
        at = len(page)
    return page[:at] + snippet.encode() + page[at:]


def page_path(url_path: str) -> str:
    """A page's URL path as pages are told apart: decoded, without a final index.html."""
    path = unquote(url_path)
    return path[: -len("index.html")] if path.endswith("/index.html") else path


def changed_pages(changed: Iterable[str], base_path: str) -> frozenset[str] | None:
    """The URL paths of the pages among changed output files; None when every page
    must reload (a stylesheet, script or image changed)."""
    pages = set()
    for relative in changed:
        if relative.endswith(".html"):
            pages.add(page_path(base_path + relative))
        elif not relative.endswith(NOT_LOADED_BY_PAGES) and not relative.startswith("pagefind/"):
            return None
    return frozenset(pages)


def fallback_page(title: str) -> bytes:
    """A page for when the site has never built, or has no 404.html."""
    title = html.escape(title)
    return (f'<!DOCTYPE html><html lang="en"><head><meta charset="utf-8"><title>{title}</title>'
            f"</head><body><h1>{title}</h1></body></html>").encode()


# --- HTTP ------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Resolved:
    """Where a request path leads: a file, a redirect, or nothing (404)."""

    file: Path | None = None
    redirect: str | None = None


def resolve_request(output: Path, base_path: str, url_path: str) -> Resolved:
    """Map a URL path to a file inside the output folder, as a static host would.

    The site lives under base_path, as in production; only "/" itself is sent
    there, for convenience. `..` and `.` segments (encoded or not), NUL bytes
    and backslashes get nothing, and so does any path that leaves the output
    folder through a symbolic link.
    """
    path, base_path = unquote(url_path), unquote(base_path)
    if "\0" in path or "\\" in path:
        return Resolved()
    if not path.startswith(base_path):
        if path in ("/", base_path.rstrip("/")):
            return Resolved(redirect=quote(base_path))
        return Resolved()
    parts = [p for p in path[len(base_path):].split("/") if p]
    if any(p in (".", "..") for p in parts) or parts == [MARKER]:
        return Resolved()
    top = output.resolve()
    target = top.joinpath(*parts).resolve()
    if target != top and top not in target.parents:
        return Resolved()
    if target.is_dir():
        if not path.endswith("/"):
            return Resolved(redirect=quote(path + "/"))
        target = target / "index.html"
        if target.is_symlink() and top not in target.resolve().parents:
            return Resolved()
    return Resolved(file=target) if target.is_file() else Resolved()


class PreviewServer(ThreadingHTTPServer):
    """The HTTP server, holding what the handlers need."""

    daemon_threads = True  # a browser holding a reload request open must not delay Ctrl-C

    def __init__(self, address: tuple[str, int], state: State, output: Path) -> None:
        if ":" in address[0]:
            self.address_family = socket.AF_INET6
        self.state = state
        self.output = output
        super().__init__(address, PreviewHandler)

    def handle_error(self, request, client_address) -> None:
        # A closed tab or an aborted reload request is routine, not worth a traceback.
        if isinstance(sys.exc_info()[1], ConnectionError):
            return
        log.warning("error serving %s:\n%s", client_address, traceback.format_exc())


class PreviewHandler(BaseHTTPRequestHandler):
    """Serves the built site and the two preview endpoints (wait, status)."""

    server: PreviewServer
    server_version = "s3site-preview"

    def do_GET(self) -> None:
        self.respond(head=False)

    def do_HEAD(self) -> None:
        self.respond(head=True)

    def log_message(self, format: str, *args: object) -> None:  # noqa: A002 - the stdlib's name
        log.debug("%s %s", self.address_string(), format % args)

    def respond(self, *, head: bool) -> None:
        state = self.server.state
        url = urlsplit(self.path)
        if url.path.startswith(ENDPOINT):
            self.endpoint(url.path[len(ENDPOINT):], parse_qs(url.query), head=head)
            return
        with state.changed:
            has_site, base_path = state.has_site, state.base_path
        if not has_site:
            self.send(HTTPStatus.SERVICE_UNAVAILABLE, fallback_page("The site does not build yet"),
                      "text/html; charset=utf-8", head=head, page=True)
            return
        found = resolve_request(self.server.output, base_path, url.path)
        if found.redirect:
            location = found.redirect + (f"?{url.query}" if url.query else "")
            self.send(HTTPStatus.FOUND, b"", "text/plain", head=head,
                      headers={"Location": location})
            return
        status = HTTPStatus.OK
        file = found.file
        if file is None:
            status, file = HTTPStatus.NOT_FOUND, self.server.output / "404.html"
        with state.changed:
            data = state.quick.get(file.relative_to(self.server.output.resolve()).as_posix()) \
                if state.quick and status == HTTPStatus.OK else None
        try:
            data = data if data is not None else file.read_bytes()
        except OSError:  # gone in a swap since resolved, or the site has no 404 page
            data = fallback_page("Not found")
            status, file = HTTPStatus.NOT_FOUND, Path("404.html")
        kind = content_type(file)
        # A missing page is told apart from no other: it reloads on any change.
        self.send(status, data, kind, head=head, page=kind.startswith("text/html"),
                  url_path=page_path(url.path) if status == HTTPStatus.OK else "")

    def endpoint(self, name: str, query: dict[str, list[str]], *, head: bool) -> None:
        state = self.server.state
        if name == "wait":
            try:
                generation = int(query.get("generation", ["-1"])[0])
                timeout = min(float(query.get("timeout", [WAIT_TIMEOUT])[0]), WAIT_TIMEOUT)
            except ValueError:
                generation, timeout = -1, 0.0
            timeout = timeout if timeout >= 0 else 0.0  # also NaN
            # The page sends back the path it was given (page_path), decoded by parse_qs.
            body = state.wait(query.get("server", [""])[0], generation, timeout,
                              query.get("page", [""])[0])
        elif name == "status":
            with state.changed:
                body = state.status()
        else:
            self.send(HTTPStatus.NOT_FOUND, b"no such preview endpoint\n", "text/plain", head=head)
            return
        self.send(HTTPStatus.OK, json.dumps(body).encode(), "application/json", head=head)

    def send(self, status: HTTPStatus, data: bytes, kind: str, *, head: bool, page: bool = False,
             headers: dict[str, str] | None = None, url_path: str = "") -> None:
        if page:
            with self.server.state.changed:
                data = inject(data, self.server.state, url_path)
        self.send_response(status)
        self.send_header("Content-Type", kind)
        self.send_header("Content-Length", str(len(data)))
        # Every reload must fetch the new files, stylesheets and images included.
        self.send_header("Cache-Control", "no-store")
        for name, value in (headers or {}).items():
            self.send_header(name, value)
        self.end_headers()
        if not head:
            self.wfile.write(data)


# --- The build loop --------------------------------------------------------------------------


class Preview:
    """Builds the site into a temporary folder, again on every change, and publishes the result."""

    def __init__(self, root: Path, output: Path, origin: str, *, drafts: bool, strict: bool,
                 state: State) -> None:
        self.root = root
        self.output = output
        self.origin = origin
        self.drafts = drafts
        self.strict = strict
        self.state = state
        self.watcher = Watcher(root)
        self.notifier: Notifier | None = None  # started by run(), after the first build
        self.memory: dict = {}  # the build's parse results, kept between builds

    def base_url(self) -> str:
        """The preview's own address plus the configured base path, so absolute links stay here."""
        settings, _ = read_settings(self.root)
        base_path = settings.base_path if settings else self.state.base_path
        return self.origin + base_path

    def rebuild(self, changed: Sequence[str] = ()) -> None:
        """Build once; never raise except to stop (Ctrl-C)."""
        from .builder import build  # the builder is big; `s3site --help` should not pay for it

        started = time.perf_counter()
        when = time.strftime("%H:%M:%S")
        what = ""
        if changed:
            shown = ", ".join(sorted(changed)[:3])
            more = f" and {len(changed) - 3} more" if len(changed) > 3 else ""
            what = f" after changes to {shown}{more}"
        try:
            # The build forks workers; a fork while the HTTP threads run could copy a lock one
            # of them holds and hang the worker, and with it every later reload. So only the
            # first build, before serving starts, runs in parallel; an edit's incremental
            # rebuild is small, and starting workers would cost it more than they save.
            alone = threading.active_count() == 1
            # Pagefind takes seconds on a large site (20 at 10,000 practices): a save meanwhile
            # stops it rather than wait for it, and the next build indexes again.
            told = self.notifier.told if self.notifier else None
            result = build(self.root, output=self.output, base_url=self.base_url(),
                           strict=self.strict, drafts=self.drafts, workers=None if alone else 1,
                           memory=self.memory, give_up_search=told.is_set if told else None)
        except SiteError as exc:
            self.failed(exc.diagnostics, when, what)
            return
        except Exception as exc:  # a bug, or a file vanishing mid-build: report, keep watching
            log.debug("build crashed", exc_info=True)
            self.failed([error("s3site", f"internal error: {type(exc).__name__}: {exc} "
                               "(run with --debug for the traceback)")], when, what)
            return
        if result.warnings:
            print(report_text(self.root, result.warnings), file=sys.stderr, flush=True)
        # An up-to-date build loads no site (a file saved unchanged): the base path stands.
        base_path = result.site.settings.base_path if result.site else self.state.base_path
        with self.state.changed:
            was_ok, quick = self.state.ok and base_path == self.state.base_path, self.state.quick
        # Every page reloads to lose the error overlay, or for a new base path.
        pages = changed_pages(result.changed, base_path) if was_ok else None
        if pages and quick:  # pages made ahead of the build are shown already, if the same
            pages = pages - {page_path(base_path + relative) for relative, data in quick.items()
                             if _file_bytes(self.output / relative) == data}
        self.state.publish(pages, has_site=True, ok=True, errors=(), overlay="", base_path=base_path,
                           quick={})
        later = "; search index left for the next build" if result.search_given_up else ""
        print(f"[{when}] Built{what}: {result.written} files written, {result.unchanged} "
              f"unchanged, in {time.perf_counter() - started:.2f} s (build {self.state.builds}){later}",
              flush=True)

    def show_edits(self, changed: Sequence[str]) -> None:
        """Serve edited practices' own pages, made alone, until the build is done."""
        from .quick import render_edited

        basis = self.memory.get("quick")
        with self.state.changed:
            ok, base_path = self.state.ok, self.state.base_path
        if basis is None or not ok:  # a broken site keeps its overlay until the build
            return
        try:
            made = render_edited(basis, changed)
        except Exception:  # the build that follows reports it, as it does everything
            log.debug("could not make the edited pages alone", exc_info=True)
            return
        if not made:
            return
        # A save made while the last build read the files may be on the page already:
        # reloading it to show the same bytes again would only make it blink.
        with self.state.changed:
            served = dict(self.state.quick)
        news = [relative for relative, data in made.items()
                if data != (served[relative] if relative in served
                            else _file_bytes(self.output / relative))]
        if news:
            self.state.publish(changed_pages(news, base_path), build=False, quick=made)

    def failed(self, diagnostics: Sequence[Diagnostic], when: str, what: str) -> None:
        errors = [d for d in diagnostics if d.severity == "error"]
        self.state.publish(ok=False, errors=tuple(str(d) for d in diagnostics),
                           overlay=report_html(self.root, diagnostics), quick={})
        kept = ("still serving the last good version" if self.state.has_site
                else "nothing to serve yet")
        print(f"[{when}] Build failed{what} (build {self.state.builds}):\n"
              f"{report_text(self.root, diagnostics)}\n"
              f"{len(errors)} error{'s' if len(errors) != 1 else ''}: {kept}; "
              "fix the files and the site comes back by itself.", file=sys.stderr, flush=True)

    def run(self, stop: threading.Event) -> None:
        """Watch and rebuild until stop is set; a burst of changes makes one build."""
        self.notifier = Notifier(self.root, WATCHED, stop)
        self.notifier.start()
        next_look = 0.0
        while not stop.is_set():
            try:
                # What the system told of comes as one burst already (watchfiles waits
                # for it to end); what a whole look finds may be half of one.
                changed = self.watcher.changed_among(self.notifier.take())
                if not changed and time.monotonic() >= next_look:
                    changed = self.watcher.changes()
                    interval = LOOK_WHILE_TOLD if self.notifier.trusted() else 0.0
                    next_look = time.monotonic() + max(interval, self.watcher.interval)
                    if changed:
                        changed |= self.settle(changed, stop)
                if not changed:
                    # Woken early by the system, or by stop within a quarter of a second.
                    self.notifier.told.wait(min(max(next_look - time.monotonic(), 0.0), 0.25))
                    continue
                if not stop.is_set():
                    paths = sorted(changed)
                    self.show_edits(paths)
                    self.rebuild(paths)
            except Exception:  # a dead loop would mean pages that silently stop reloading
                log.warning("preview loop error:\n%s", traceback.format_exc())
                stop.wait(1.0)

    def settle(self, changed: set[str], stop: threading.Event) -> set[str]:
        """Wait for a burst of changes to end; return what else changed meanwhile.

        (An editor's temporary file and rename, or many files saved at once.)
        Looking often at the files seen changing costs nothing, and a whole
        look once they are quiet finds the rest.
        """
        more: set[str] = set()
        first = last = time.monotonic()
        while not stop.wait(POLL_INTERVAL):
            now = time.monotonic()
            if self.watcher.changed_again(changed | more):
                last = now
            elif now - last >= QUIET or now - first >= MAX_WAIT:
                found = self.watcher.changes()
                more |= found
                if not found or now - first >= MAX_WAIT:
                    break
                last = time.monotonic()
        return more


def _file_bytes(path: Path) -> bytes | None:
    try:
        return path.read_bytes()
    except OSError:
        return None


# --- Entry point -----------------------------------------------------------------------------


def url_host(host: str) -> str:
    """The host part of the preview's URL: a wildcard address is opened as loopback."""
    if host in ("", "0.0.0.0"):
        return "127.0.0.1"
    if host == "::":
        return "[::1]"
    return f"[{host}]" if ":" in host else host


def serve(root: Path, *, host: str = "127.0.0.1", port: int = 8000, open_browser: bool = False,
          drafts: bool = True, strict: bool = False) -> int:
    """Serve a live preview of the site until Ctrl-C; return the exit status."""
    root = root.resolve()
    state = State()
    scratch = Path(tempfile.mkdtemp(prefix="s3site-preview-"))
    stop = threading.Event()
    server: PreviewServer | None = None
    serving: threading.Thread | None = None
    # Ctrl-C stops the preview even when started from a script that ignores SIGINT, and
    # `kill` or a service manager's SIGTERM stops it just as cleanly.
    previous = {sig: signal.signal(sig, _interrupt) for sig in (signal.SIGINT, signal.SIGTERM)}
    try:
        try:
            server = PreviewServer((host, port), state, scratch / "site")
        except OSError as exc:
            print(f"s3site serve: cannot listen on {host}:{port}: {exc.strerror or exc} "
                  "(is another server running there? try --port)", file=sys.stderr)
            return 1
        origin = f"http://{url_host(host)}:{server.server_address[1]}"
        preview = Preview(root, scratch / "site", origin, drafts=drafts, strict=strict, state=state)
        preview.rebuild()
        serving = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.2},
                                   name="s3site-http", daemon=True)
        serving.start()
        url = origin + quote(state.base_path, safe="/%")  # base_url's path is encoded already
        print(f"Serving the preview at {url} ({'with' if drafts else 'without'} drafts; "
              "Ctrl-C to stop)", flush=True)
        if host not in ("127.0.0.1", "localhost", "::1"):
            print(f"Listening on {host}: other computers may see this preview, drafts included.",
                  flush=True)
        if open_browser:
            threading.Thread(target=webbrowser.open, args=(url,), daemon=True).start()
        preview.run(stop)
    except KeyboardInterrupt:
        print("\nStopped the preview.", flush=True)
    finally:
        stop.set()
        state.close()
        if serving is not None:
            server.shutdown()  # waits for serve_forever, so only once it has started
        if server is not None:
            server.server_close()
        shutil.rmtree(scratch, ignore_errors=True)
        for sig, handler in previous.items():
            signal.signal(sig, handler)
    return 0


def _interrupt(signum: int, frame: object) -> None:
    """Stop the preview. (The build's workers set SIGTERM back to the default as they start:
    see parallel._forking.)"""
    raise KeyboardInterrupt
