"""Internal link checking of a built site.

Every href and src of every HTML page that points inside the site must lead
to a file of the output folder. Used by `s3site check --links` and by the
tests; it reads files only, so it needs no server.
"""

from __future__ import annotations

from dataclasses import dataclass
from html.parser import HTMLParser
from pathlib import Path
from urllib.parse import unquote, urljoin, urlsplit


@dataclass(frozen=True, slots=True, order=True)
class BrokenLink:
    page: str  # the output file holding the link
    target: str  # the link as written

    def __str__(self) -> str:
        return f"{self.page}: broken link to {self.target}"


class _LinkCollector(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.links: list[str] = []
        self.ids: set[str] = set()

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        for name, value in attrs:
            if value is None:
                continue
            if name in ("href", "src") and tag != "form":
                self.links.append(value)
            elif name == "action" and tag == "form":
                self.links.append(value)
            elif name == "id":
                self.ids.add(value)


def page_links(html: str) -> list[str]:
    """Every href, src and form action of a page, as written."""
    collector = _LinkCollector()
    collector.feed(html)
    return collector.links


def resolve_target(output: Path, path: str) -> Path | None:
    """The file a URL path (below the site's root) is served from, or None."""
    candidate = output / unquote(path).lstrip("/")
    if path.endswith("/") or not path:
        candidate = candidate / "index.html"
    if candidate.is_file():
        return candidate
    if (candidate / "index.html").is_file():
        return candidate / "index.html"
    return None


def check_links(output: Path, base_url: str) -> tuple[int, list[BrokenLink]]:
    """Check every internal link of every page; return (pages checked, broken links)."""
    base = urlsplit(base_url)
    base_path = base.path or "/"
    broken: list[BrokenLink] = []
    pages = sorted(output.rglob("*.html"))
    for page in pages:
        relative = page.relative_to(output).as_posix()
        page_url = base_path + relative.removesuffix("index.html")
        for link in page_links(page.read_text(encoding="utf-8")):
            target = urlsplit(urljoin(page_url, link))
            if target.scheme and target.scheme not in ("http", "https"):
                continue  # mailto: and the like
            if target.netloc and target.netloc != base.netloc:
                continue  # another host
            if not target.path.startswith(base_path):
                broken.append(BrokenLink(relative, link))
                continue
            if resolve_target(output, target.path[len(base_path) :]) is None:
                broken.append(BrokenLink(relative, link))
    return len(pages), sorted(set(broken))
