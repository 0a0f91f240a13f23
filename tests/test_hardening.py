"""Hostile content, bad files, crashes mid-build, the output folder, reproducibility."""

from __future__ import annotations

import csv
import errno
import io
import json
import os
import re
import shutil
import signal
import subprocess
import sys
import time
import xml.etree.ElementTree as ET
from html.parser import HTMLParser
from pathlib import Path

import pytest
from conftest import REPO, practice_text, write_site

from s3site import builder, cli
from s3site.output import MARKER, WRITES_HANDED_AT_ONCE, WRITES_IN_FLIGHT, StagedOutput

SITE = "title: T\nbase_url: https://example.org/\nsearch: false\n"


def tree(folder: Path) -> dict[str, bytes]:
    return {p.relative_to(folder).as_posix(): p.read_bytes() for p in sorted(folder.rglob("*")) if p.is_file()}


# --- bad files -------------------------------------------------------------

GOOD = practice_text()
BAD_FILES = {
    "utf.md": (GOOD.replace("The description.", "Bad \udcff byte.").encode("utf-8", "surrogateescape"),
               "utf.md:10:5: error: not valid UTF-8 text"),
    "tabs.md": (GOOD.replace("location: {country: FI, region: FI1D}", "location:\n\tcountry: FI").encode(),
                "tabs.md:6:1: error: a tab is used for indentation; YAML needs spaces"),
    "bomb.md": (("---\na: &a [x,x,x,x,x,x,x,x,x]\n" + "".join(
        f"{chr(98 + i)}: &{chr(98 + i)} [" + ",".join([f"*{chr(97 + i)}"] * 9) + "]\n" for i in range(8))
        + "title: *i\n---\nBody\n").encode(), "bomb.md:"),
    "big.md": (b"---\ntitle: x\n---\n" + b"a" * (50 * 1024 * 1024), "big.md: error: file is 50 MB; the limit is 10 MB"),
    "empty.md": (b"", "empty.md: error: the file is empty"),
    "unclosed.md": (b"---\ntitle: A\nsummary: B\n", "unclosed.md:1:1: error: the front matter opened by '---'"),
    "list.md": (b"---\n- a\n- b\n---\nBody\n", "list.md:1:1: error: the front matter must be a mapping of fields, got list"),
    "list.yaml": (b"- a\n- b\n", "list.yaml:1:1: error: the file must be a mapping of fields, got list"),
    "binary.md": (b"\x00\x01\x02", "binary.md: error: the file contains a NUL byte"),
    "nested.md": (b"---\ntitle: " + b"[" * 5000 + b"\n---\nx\n", "nested.md:"),
}


def test_bad_files_get_clear_errors_never_a_traceback(tmp_path, run):
    root = write_site(tmp_path / "site", {}, site=SITE)
    for name, (data, _) in BAD_FILES.items():
        (root / "content/practices" / name).write_bytes(data)
    started = time.monotonic()
    status, out, err = run("build", "--root", root)
    assert time.monotonic() - started < 60
    assert status == 1
    assert "Traceback" not in err and "internal error" not in err
    for name, (_, expected) in BAD_FILES.items():
        assert expected in err, name
    assert "bomb.md" in err and "expand to more than" in err


def test_bom_and_crlf_are_read_correctly(make_site, run):
    root = make_site({
        "bom.md": b"\xef\xbb\xbf".decode("latin-1") and "\ufeff" + practice_text(title="With BOM"),
        "crlf.md": practice_text(title="With CRLF").replace("\n", "\r\n"),
    }, site=SITE)
    status, out, err = run("build", "--root", root)
    assert status == 0, err
    assert "With BOM" in (root / "output/practices/bom/index.html").read_text()
    crlf = (root / "output/practices/crlf/index.html").read_text()
    assert "With CRLF" in crlf and "\r" not in crlf


def test_debug_shows_the_traceback_of_an_internal_error(make_site, run, monkeypatch):
    root = make_site(site=SITE)

    def broken(*args, **kwargs):
        raise RuntimeError("boom")

    monkeypatch.setattr(builder, "build", broken)
    status, out, err = run("build", "--root", root)
    assert status == 2 and "internal error: RuntimeError: boom" in err and "Traceback" not in err
    with pytest.raises(RuntimeError):
        cli.main(["build", "--root", str(root), "--debug"])


def test_symlink_out_of_the_content_folder_is_an_error(make_site, run, tmp_path):
    secret = tmp_path / "secret.txt"
    secret.write_text("secret")
    root = make_site(site=SITE)
    (root / "content/static").mkdir()
    (root / "content/static/leak.txt").symlink_to(secret)
    (root / "content/practices/leak.md").symlink_to(secret)
    status, out, err = run("build", "--root", root)
    assert status == 1
    assert "content/static/leak.txt: error: a symbolic link to" in err
    assert "content/practices/leak.md: error: a symbolic link to" in err


# --- hostile content ---------------------------------------------------------

HOSTILE_TEXT = [
    "<script>alert(1)</script>",
    "<SCRIPT SRC=//evil.example/x.js></SCRIPT>",
    "<img src=x onerror=alert(1)>",
    "<svg onload=alert(1)>",
    "<svg><script>alert(1)</script></svg>",
    "<body onload=alert(1)>",
    "<iframe src=javascript:alert(1)></iframe>",
    "<a href=\"javascript:alert(1)\">x</a>",
    "<a href=\"JaVaScRiPt:alert(1)\">x</a>",
    "<a href=\"&#106;avascript:alert(1)\">x</a>",
    "<a href=\"java\tscript:alert(1)\">x</a>",
    "<a href=\"data:text/html;base64,PHNjcmlwdD5hbGVydCgxKTwvc2NyaXB0Pg==\">x</a>",
    "<a href=\"vbscript:msgbox(1)\">x</a>",
    "[link](javascript:alert(1))",
    "[link](JAVASCRIPT:alert(1))",
    "[link](data:text/html,<script>alert(1)</script>)",
    "![img](javascript:alert(1))",
    "![img](x \"onerror=alert(1)\")",
    "<div style=\"background:url(javascript:alert(1))\">x</div>",
    "<object data=\"x.swf\"></object>",
    "<embed src=\"x.swf\">",
    "<form action=\"javascript:alert(1)\"><button>x</button></form>",
    "<math><mi xlink:href=\"javascript:alert(1)\">x</mi></math>",
    "<details open ontoggle=alert(1)>",
    "<p onclick=\"alert(1)\">click</p>",
    "<meta http-equiv=\"refresh\" content=\"0;url=javascript:alert(1)\">",
    "<link rel=stylesheet href=javascript:alert(1)>",
    "<base href=\"javascript:alert(1)//\">",
    "<style>@import 'javascript:alert(1)';</style>",
    "<!--<script>alert(1)</script>-->",
    "<scr<script>ipt>alert(1)</script>",
    "<img src=\"x\" alt=\"\" onmouseover=\"alert(1)\">",
    "<a href=\"#\" onfocus=\"alert(1)\" autofocus>x</a>",
    "text {: onclick=\"alert(1)\" }",
    "<textarea><script>alert(1)</script></textarea>",
    "<noscript><p title=\"</noscript><img src=x onerror=alert(1)>\"></noscript>",
]
HOSTILE_FIELDS = [
    ("title", "'</script><script>alert(1)</script>'"),
    ("summary", "'\"><img src=x onerror=alert(1)>'"),
    ("main_institution", "'<script>alert(1)</script>'"),
    ("keywords", "['<svg onload=alert(1)>', '=HYPERLINK(\"http://evil\")']"),
    ("author", "{name: '<a href=javascript:alert(1)>me</a>'}"),
    ("followers", "[{name: '@SUM(1+1)', organisation: '+cmd'}]"),
    ("city", "'-2+3'"),
]


class _Scanner(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.problems: list[str] = []
        self.in_script = ""

    def handle_starttag(self, tag, attrs):
        attributes = dict(attrs)
        if tag == "script":
            kind = attributes.get("type") or ""
            src = attributes.get("src") or ""
            if kind != "application/ld+json" and not re.fullmatch(r"/(assets|pagefind)/[\w./-]+\.js", src):
                self.problems.append(f"script {attrs}")
            self.in_script = kind
        for name, value in attrs:
            if name.startswith("on"):
                self.problems.append(f"handler {name} on {tag}")
            if name in ("href", "src", "action", "xlink:href", "data", "formaction") and value:
                scheme = re.sub(r"[\s\x00-\x1f]", "", value).lower()
                if scheme.startswith(("javascript:", "vbscript:", "data:text")):
                    self.problems.append(f"{name}={value!r} on {tag}")
        if tag in ("iframe", "object", "embed", "base", "form") and tag != "form" or (
                tag == "form" and attributes.get("role") != "search" and "search-form" not in (attributes.get("class") or "")):
            self.problems.append(f"element {tag}")

    def handle_data(self, data):
        if self.in_script == "application/ld+json":
            if "</script" in data.lower() or "<script" in data.lower():
                self.problems.append("markup inside JSON-LD")
            json.loads(data)

    def handle_endtag(self, tag):
        if tag == "script":
            self.in_script = ""


def test_hostile_content_leaves_no_script_anywhere(make_site, run):
    assert len(HOSTILE_TEXT) + len(HOSTILE_FIELDS) >= 40
    practices = {f"text{i}.md": practice_text(title=f"T{i}", body=f"Intro.\n\n{payload}\n\n## Evidence of success\n\n{payload}\n")
                 for i, payload in enumerate(HOSTILE_TEXT)}
    for i, (field, value) in enumerate(HOSTILE_FIELDS):
        practices[f"field{i}.md"] = practice_text(**{"title": f"F{i}", field: value})
    practices["links.md"] = practice_text(title="L", website="'javascript:alert(1)'")
    root = make_site(practices, site=SITE)
    status, out, err = run("build", "--root", root)
    assert status == 1 and "links.md:8:1: error: website: 'javascript:alert(1)' is not an http(s) address" in err
    (root / "content/practices/links.md").unlink()
    status, out, err = run("build", "--root", root)
    assert status == 0, err
    output = root / "output"
    problems = []
    for page in output.rglob("*.html"):
        scanner = _Scanner()
        scanner.feed(page.read_text())
        problems += [f"{page.relative_to(output)}: {p}" for p in scanner.problems]
    assert problems == []
    for xml_file in ("feed.xml", "sitemap.xml", "themes/social-economy/feed.xml"):
        root_element = ET.fromstring((output / xml_file).read_bytes())
        assert root_element is not None
        for element in root_element.iter():
            assert not element.tag.endswith("script")
    rows = list(csv.reader(io.StringIO((output / "practices.csv").read_text(encoding="utf-8-sig"))))
    for row in rows[1:]:
        for cell in row:
            assert cell[:1] not in ("=", "+", "-", "@"), cell
    data = json.loads((output / "practices.json").read_text())
    assert any("</script>" in p["title"] for p in data["practices"])  # kept as text, escaped by JSON


# --- the output folder --------------------------------------------------------

@pytest.mark.parametrize("where", ["root", "content", "parent", "templates", "home", "slash", "foreign", "file"])
def test_output_folder_refusals(make_site, run, tmp_path, monkeypatch, where):
    root = make_site(site=SITE)
    (root / "templates").mkdir()
    home = tmp_path / "home"
    home.mkdir()
    monkeypatch.setenv("HOME", str(home))
    foreign = tmp_path / "foreign"
    foreign.mkdir()
    (foreign / "keep.txt").write_text("mine")
    afile = tmp_path / "afile"
    afile.write_text("mine")
    target = {"root": root, "content": root / "content", "parent": root.parent, "home": home,
              "slash": Path("/"), "foreign": foreign, "file": afile, "templates": root / "templates"}[where]
    before = tree(root)
    status, out, err = run("build", "--root", root, "--output", target)
    assert status == 1
    assert "refusing to write the site here" in err
    assert tree(root) == before
    assert (foreign / "keep.txt").read_text() == "mine" and afile.read_text() == "mine"


def test_leftovers_of_a_killed_build_are_cleaned(make_site, run):
    root = make_site(site=SITE)
    assert run("build", "--root", root)[0] == 0
    leftover = root / "output.s3site-staging-99999"
    leftover.mkdir()
    (leftover / MARKER).write_text("x")
    (leftover / "index.html").write_text("half")
    assert run("build", "--root", root)[0] == 0
    assert not leftover.exists()


def _big_site(root: Path, count: int, title: str) -> Path:
    practices = {f"p{i:04d}.md": practice_text(title=f"{title} {i}", body=("Words. " * 200) + "\n")
                 for i in range(count)}
    return write_site(root, practices, site=SITE)


def test_sigkill_mid_build_leaves_the_old_site(tmp_path):
    root = _big_site(tmp_path / "site", 300, "Version 0")
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    command = [sys.executable, "-m", "s3site", "build", "--root", str(root)]
    subprocess.run(command, check=True, env=env, capture_output=True)
    published = tree(root / "output")
    for version, delay in enumerate((0.3, 0.6, 1.0, 1.5, 2.2, 3.0), 1):
        for path in (root / "content/practices").glob("*.md"):
            path.write_text(path.read_text().replace(f"Version {version - 1}", f"Version {version}"))
        expected_new = tmp_path / f"expected-{version}"
        subprocess.run(command + ["--output", str(expected_new)], check=True, env=env, capture_output=True)
        process = subprocess.Popen(command, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        time.sleep(delay)
        process.send_signal(signal.SIGKILL)
        process.wait()
        # Killed at any point, the output is one complete site: the old one,
        # or the new one if the build had already swapped it in.
        current = tree(root / "output")
        assert current in (published, tree(expected_new)), f"half-written site after {delay} s"
        completed = subprocess.run(command, env=env, capture_output=True, text=True)
        assert completed.returncode == 0, completed.stderr
        published = tree(root / "output")
        assert published == tree(expected_new)
        assert not list(root.glob("output.s3site-*")), "leftovers after the next build"


# --- reproducibility --------------------------------------------------------------

def test_same_bytes_whatever_the_environment(tmp_path):
    root = write_site(tmp_path / "site", {
        f"p{i}.md": practice_text(title=f"Pratique {i} ä", themes="[energy, social-economy]" if i % 2 else "[energy]",
                                  location="{country: FI, region: FI1D7}" if i % 3 else "{country: ES, region: ES22}",
                                  end="2025-06" if i % 4 else None)
        for i in range(80)}, site=SITE)
    trees = []
    for env in (
        {"TZ": "UTC", "LC_ALL": "C", "PYTHONHASHSEED": "0", "S3SITE_WORKERS": "1"},
        {"TZ": "Pacific/Kiritimati", "LC_ALL": "C.UTF-8", "PYTHONHASHSEED": "12345", "S3SITE_WORKERS": "2"},
        {"TZ": "America/Anchorage", "LC_ALL": "de_DE.UTF-8", "PYTHONHASHSEED": "random", "S3SITE_WORKERS": "2"},
    ):
        output = tmp_path / f"out{len(trees)}"
        subprocess.run([sys.executable, "-m", "s3site", "build", "--root", str(root), "--output", str(output)],
                       check=True, env={**os.environ, "PYTHONPATH": str(REPO), "SOURCE_DATE_EPOCH": "1767225600",
                                        **env}, capture_output=True)
        trees.append(tree(output))
        (root / ".s3site-cache").exists() and subprocess.run(["rm", "-rf", str(root / ".s3site-cache")])
    assert trees[0] == trees[1] == trees[2]


def test_source_date_epoch_decides_the_status(make_site, monkeypatch):
    root = make_site({"p.md": practice_text(end="2026-06")}, site=SITE)
    monkeypatch.setenv("SOURCE_DATE_EPOCH", str(1767225600))  # 2026-01-01
    assert builder.load(root).site.practices[0].status == "ongoing"
    monkeypatch.setenv("SOURCE_DATE_EPOCH", str(1798761600))  # 2027-01-01
    assert builder.load(root).site.practices[0].status == "completed"


def test_command_reports_through_a_pipe_and_exits_with_its_status(make_site):
    """`s3site` ends without freeing its heap (os._exit): what it printed must still arrive."""
    root = make_site({"p.md": practice_text()}, site=SITE)
    command = [sys.executable, "-m", "s3site", "build", "--root", str(root)]
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    env.pop("PYTHONUNBUFFERED", None)  # block-buffered, as a pipe normally is
    built = subprocess.run(command, env=env, capture_output=True, text=True)
    assert built.returncode == 0
    assert built.stdout.startswith("Built 1 practices")
    (root / "content" / "practices" / "bad.md").write_text("---\ntitle: [\n---\n", encoding="utf-8")
    failed = subprocess.run(command, env=env, capture_output=True, text=True)
    assert failed.returncode == 1
    assert "bad.md" in failed.stderr and "nothing was written" in failed.stderr
    assert failed.stdout == ""


def test_a_command_that_ends_leaves_cycles_uncollected_but_the_preview_collects(make_site, monkeypatch):
    """Collecting just before os._exit is wasted; a preview running for hours must collect."""
    import gc

    from s3site import cli

    root = make_site({"p.md": practice_text()}, site=SITE)
    try:
        assert cli.main(["build", "--root", str(root)], then_exit=True) == 0
        assert not gc.isenabled()
        gc.enable()
        assert cli.main(["build", "--root", str(root)]) == 0  # as tests and other callers run it
        assert gc.isenabled()
        monkeypatch.setattr(cli, "_serve", lambda args: 0)
        assert cli.main(["serve", "--root", str(root)], then_exit=True) == 0
        assert gc.isenabled()
    finally:
        gc.enable()


# --- writing -----------------------------------------------------------------------

def test_files_written_behind_are_all_there_and_counted_when_it_ends(tmp_path):
    staged = StagedOutput(tmp_path / "output")
    count = WRITES_IN_FLIGHT * 3 + WRITES_HANDED_AT_ONCE // 2
    with staged.writing_behind():
        # More than may wait at once, and not whole batches of WRITES_HANDED_AT_ONCE.
        for i in range(count):
            staged.write(f"practices/p{i}/index.html", f"page {i}".encode())
    assert staged.written == count
    assert sorted(staged.changed) == sorted(f"practices/p{i}/index.html" for i in range(count))
    assert (staged.staging / "practices/p700/index.html").read_text() == "page 700"


def test_a_file_written_behind_that_fails_raises_its_error_in_the_writer(tmp_path):
    staged = StagedOutput(tmp_path / "output")
    (staged.staging / "blocked").write_text("a file where a folder should be")
    with pytest.raises(OSError), staged.writing_behind():
        staged.write("first/index.html", b"1")
        staged.write("blocked/index.html", b"2")
        staged.write("last/index.html", b"3")
    assert (staged.staging / "first/index.html").read_bytes() == b"1"
    assert not (staged.staging / "last").exists()  # nothing more is written after a failure


@pytest.mark.parametrize("count", [3, 120])  # written here, and by forked workers
def test_a_full_disk_stops_the_build_with_a_clear_message_and_the_old_site(make_site, run, monkeypatch, count):
    root = make_site({f"p{i}.md": practice_text(title=f"P {i}") for i in range(count)}, site=SITE)
    assert run("build", "--root", root)[0] == 0
    published = tree(root / "output")
    shutil.rmtree(root / ".s3site-cache")  # so that every file is made again
    original = StagedOutput._write

    def full(self, relative, data):
        if relative == "practices/p1/index.html":
            raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC), f"{self.staging}/{relative}")
        return original(self, relative, data)

    monkeypatch.setattr(StagedOutput, "_write", full)
    status, out, err = run("build", "--root", root)
    assert status == 1
    assert f"{root / 'output'}/practices/p1/index.html: error: cannot write the site: No space left on device" in err
    assert "internal error" not in err and "Traceback" not in err
    assert tree(root / "output") == published
    assert not list(root.glob("output.s3site-staging*"))


def test_two_folders_are_swapped_in_one_step_without_running_a_program(tmp_path, monkeypatch):
    import ctypes.util

    from s3site import output

    def no_program(name):
        raise AssertionError("find_library() runs ldconfig")

    output._renameat2.cache_clear()
    monkeypatch.setattr(ctypes.util, "find_library", no_program)
    monkeypatch.setattr(subprocess, "Popen", no_program)
    a, b = tmp_path / "a", tmp_path / "b"
    a.mkdir()
    b.mkdir()
    (a / "x").write_text("from a")
    (b / "x").write_text("from b")
    try:
        assert output._exchange(a, b)
    finally:
        output._renameat2.cache_clear()
    assert (a / "x").read_text() == "from b" and (b / "x").read_text() == "from a"
