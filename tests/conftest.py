"""Fixtures that build small sites in temporary folders."""

from __future__ import annotations

import importlib.util
import sys
import textwrap
from pathlib import Path
from types import ModuleType

import pytest

from s3site.cli import main

SITE_YAML = """\
title: Test Practices
description: A test collection.
base_url: https://example.org/
per_page: 2
"""

THEMES_YAML = """\
- id: social-economy
  title: Social economy
  description: Cooperatives and social enterprises.
- id: smart-specialisation
  title: Smart specialisation
- id: energy
  title: Low-carbon energy
"""


def practice_text(**fields: str) -> str:
    """A valid practice file; keyword arguments replace or add front-matter lines."""
    values = {
        "title": "Lapland cooperatives",
        "summary": "Cooperatives working across borders.",
        "themes": "[social-economy]",
        "location": "{country: FI, region: FI1D}",
        "main_institution": "Regional Council of Lapland",
        "start": "2018-06",
    }
    body = fields.pop("body", "The description.\n\n## Resources needed\n\nMoney.\n")
    values.update(fields)
    front = "".join(f"{key}: {value}\n" for key, value in values.items() if value is not None)
    return f"---\n{front}---\n\n{body}"


def write_site(
    root: Path,
    practices: dict[str, str] | None = None,
    *,
    site: str = SITE_YAML,
    themes: str = THEMES_YAML,
    pages: dict[str, str] | None = None,
    templates: dict[str, str] | None = None,
    files: dict[str, str | bytes] | None = None,
) -> Path:
    """Write a site below root: content/site.yaml, themes.yaml, practices, pages, templates."""
    content = root / "content"
    (content / "practices").mkdir(parents=True, exist_ok=True)
    (content / "site.yaml").write_text(site, encoding="utf-8")
    (content / "themes.yaml").write_text(themes, encoding="utf-8")
    if practices is None:
        practices = {"lapland.md": practice_text()}
    for name, text in practices.items():
        (content / "practices" / name).parent.mkdir(parents=True, exist_ok=True)
        (content / "practices" / name).write_text(textwrap.dedent(text), encoding="utf-8")
    for name, text in (pages or {}).items():
        (content / "pages").mkdir(exist_ok=True)
        (content / "pages" / name).write_text(textwrap.dedent(text), encoding="utf-8")
    for name, text in (templates or {}).items():
        (root / "templates" / name).parent.mkdir(parents=True, exist_ok=True)
        (root / "templates" / name).write_text(text, encoding="utf-8")
    for name, data in (files or {}).items():
        path = root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        if isinstance(data, bytes):
            path.write_bytes(data)
        else:
            path.write_text(data, encoding="utf-8")
    return root


@pytest.fixture
def make_site(tmp_path: Path):
    """Write a small site in a temporary folder and return its root."""

    def make(practices: dict[str, str] | None = None, **kwargs) -> Path:
        return write_site(tmp_path / "site", practices, **kwargs)

    return make


@pytest.fixture
def run(capsys):
    """Run the s3site command line; return (status, stdout, stderr)."""

    def run_cli(*args: str) -> tuple[int, str, str]:
        status = main([str(a) for a in args])
        captured = capsys.readouterr()
        return status, captured.out, captured.err

    return run_cli


REPO = Path(__file__).resolve().parent.parent
SEED = REPO.parent / "shared" / "seed" / "000_72a7b260c74e0cf4.txt"


def load_benchmark_module(file_name: str, module_name: str) -> ModuleType:
    """A script of benchmarks/ (not a package) as a module, for its tests."""
    spec = importlib.util.spec_from_file_location(module_name, REPO / "benchmarks" / file_name)
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # dataclasses look their module up there
    spec.loader.exec_module(module)
    return module


# --- Lines printed at the end of the run -------------------------------------------------------
# Tests report counts with add_summary(request.config, "section", "line"), e.g. the quality
# gate's pages checked, errors, violations and broken links (tests/test_quality.py); they are
# printed after the results, also under -q, so `make test` and .ci/run show them.
SUMMARY = pytest.StashKey[dict[str, list[str]]]()


def add_summary(config: pytest.Config, section: str, line: str) -> None:
    config.stash.setdefault(SUMMARY, {}).setdefault(section, []).append(line)


def pytest_terminal_summary(terminalreporter, exitstatus, config) -> None:
    for section, lines in config.stash.get(SUMMARY, {}).items():
        terminalreporter.write_sep("-", section)
        for line in lines:
            terminalreporter.write_line(line)
