"""Authoring: start a site, start a practice, and check the links of a built site."""

from __future__ import annotations

import re
from pathlib import Path

import yaml
from conftest import SITE_YAML

from s3site.fields import LOCATION_FIELDS, PRACTICE_FIELDS
from s3site.markup import split_front_matter


def test_init_writes_a_site_that_builds_at_once(tmp_path, run):
    site = tmp_path / "site"
    status, out, err = run("init", site)
    assert status == 0, err
    for name in ["content/site.yaml", "content/themes.yaml", "content/pages/about.md",
                 "content/practices/social-economy-s3-platform.md", ".gitignore", "README.md"]:
        assert (site / name).is_file(), name
        assert f"wrote {name}" in out
    assert (site / "content/themes.yaml").read_bytes() == (
        Path(__file__).parent.parent / "s3site/data/default-themes.yaml").read_bytes()
    assert set((site / ".gitignore").read_text().split()) == {"/output/", "/.output.s3site-spare/", "/.s3site-cache/"}
    readme = (site / "README.md").read_text()
    assert "s3site serve" in readme and "base_url" in readme and "s3site new" in readme

    status, out, err = run("build", "--root", site)
    assert status == 0, err
    assert out.startswith("Built 1 practices")
    assert (site / "output/practices/social-economy-s3-platform/index.html").is_file()
    assert (site / "output/about/index.html").is_file()


def test_init_refuses_a_folder_that_is_not_empty(tmp_path, run):
    (tmp_path / "notes.txt").write_text("mine")
    status, out, err = run("init", tmp_path)
    assert status == 1
    assert "the folder is not empty" in err and "--force" in err
    assert sorted(p.name for p in tmp_path.iterdir()) == ["notes.txt"]


def test_init_takes_a_folder_holding_only_git(tmp_path, run):
    (tmp_path / ".git").mkdir()
    assert run("init", tmp_path)[0] == 0
    assert (tmp_path / "content/site.yaml").is_file()


def test_init_with_force_adds_missing_files_and_overwrites_none(tmp_path, run):
    (tmp_path / "README.md").write_text("my readme\n")
    (tmp_path / "content").mkdir()
    (tmp_path / "content/site.yaml").write_text("title: Mine\n")
    status, out, err = run("init", tmp_path, "--force")
    assert status == 0, err
    assert "skipped README.md: it already exists" in out
    assert "skipped content/site.yaml: it already exists" in out
    assert "wrote content/themes.yaml" in out
    assert (tmp_path / "README.md").read_text() == "my readme\n"
    assert (tmp_path / "content/site.yaml").read_text() == "title: Mine\n"
    assert run("build", "--root", tmp_path)[0] == 0


def new_practice(run, root: Path, *args: str) -> Path:
    status, out, err = run("new", *args, "--root", root)
    assert status == 0, err
    path = Path(out.strip())
    assert path == root / "content/practices" / path.name and path.is_file()
    return path


def fill_in(text: str) -> str:
    """What an editor does with a new practice: the required fields, the description, a section."""
    for name, value in [("summary", "Cooperatives working across borders."),
                        ("main_institution", "Regional Council of Lapland"), ("start", "2018-06")]:
        text = re.sub(rf"^{name}:.*$", f"{name}: {value}", text, count=1, flags=re.MULTILINE)
    text = re.sub(r"<!-- The description \(required\).*?-->", "What it is and how it works.",
                  text, flags=re.DOTALL)
    return text.replace("<!-- The money,", "Two people for a year. <!-- The money,")


def test_new_practice_fails_check_until_filled_in_then_passes(make_site, run):
    root = make_site()
    path = new_practice(run, root, "Cross-border cooperatives: a second try",
                        "--theme", "social-economy", "--region", "Lapland")
    assert path.name == "cross-border-cooperatives-a-second-try.md"
    text = path.read_text()
    assert "title: \"Cross-border cooperatives: a second try\"" in text
    assert "themes: [social-economy]" in text
    assert re.search(r"^  country: FI +# Finland$", text, re.MULTILINE)
    assert re.search(r"^  region: FI1D7 +# Lappi$", text, re.MULTILINE)

    status, out, err = run("check", "--root", root)
    assert status == 1
    source = "content/practices/cross-border-cooperatives-a-second-try.md"
    for message in ["missing required field 'summary'", "missing required field 'main_institution'",
                    "missing required field 'start'",
                    "the description is empty: write it after the front matter"]:
        pattern = rf"^{source}:\d+: error: {re.escape(message)}$"
        assert re.search(pattern, err, re.MULTILINE), message
    assert "Stopped: 4 errors" in err

    path.write_text(fill_in(text))
    status, out, err = run("check", "--root", root)
    assert status == 0, err
    assert out.startswith("OK: 2 practices")
    assert run("build", "--root", root)[0] == 0
    html = (root / "output/practices/cross-border-cooperatives-a-second-try/index.html").read_text()
    assert "What it is and how it works." in html and "Two people for a year." in html
    assert "Evidence of success" not in html  # a section left as its hint is not shown


def test_new_practice_without_options_names_every_missing_field(make_site, run):
    root = make_site()
    path = new_practice(run, root, "Bare practice")
    text = path.read_text()
    assert "#   ids: social-economy, smart-specialisation, energy" in text
    status, out, err = run("check", "--root", root)
    assert status == 1
    for field in ["summary", "themes", "location.country", "main_institution", "start"]:
        assert f"missing required field '{field}'" in err, field
    path.write_text(fill_in(text).replace("themes:", "themes: [energy]", 1)
                    .replace("  country:", "  country: EL", 1))
    status, out, err = run("check", "--root", root)
    assert status == 0, err


def test_new_practice_holds_every_declared_field_with_its_hint(make_site, run):
    root = make_site()
    text = new_practice(run, root, "Every field", "--country", "ES").read_text()
    front, body, _ = split_front_matter(text)
    for spec in PRACTICE_FIELDS:
        if spec.name == "city":
            continue  # written as location.city
        line = next(line for line in front.splitlines()
                    if re.match(rf"^(# )?{spec.name}:", line))
        assert line.endswith(spec.help), line
        assert line.startswith("# ") != spec.required, line
    for spec in LOCATION_FIELDS:
        assert re.search(rf"^  (# )?{spec.name}:", front, re.MULTILINE), spec.name
    assert "  country: ES" in front
    headings = re.findall(r"^## (.+)$", body, re.MULTILINE)
    assert headings == ["Resources needed", "Evidence of success",
                        "Potential for learning or transfer"]
    assert body.count("<!--") == 4
    # Uncommenting every optional field gives YAML that still parses.
    uncommented = re.sub(r"^( *)# (\w+:.*|  .*)$", r"\1\2", front, flags=re.MULTILINE)
    assert "\n# draft:" not in uncommented
    assert isinstance(yaml.safe_load(uncommented), dict)


def test_new_refuses_unknown_theme_and_region_with_suggestions(make_site, run):
    root = make_site()
    status, out, err = run("new", "Typos", "--theme", "socal-economy", "--region", "Lapand",
                           "--country", "FI", "--root", root)
    assert status == 1
    assert "--theme: error: unknown theme 'socal-economy' (did you mean 'social-economy'?)" in err
    assert "--region: error: unknown region 'Lapand' in FI (did you mean 'Lappi' (FI1D7)" in err
    status, out, err = run("new", "Typos", "--region", "Lapland", "--country", "ES", "--root", root)
    assert status == 1
    assert "--region: error: region 'Lapland' is not in ES" in err
    status, out, err = run("new", "Typos", "--country", "Atlantis", "--root", root)
    assert "--country: error: unknown country 'Atlantis'" in err
    assert list((root / "content/practices").iterdir()) == [root / "content/practices/lapland.md"]


def test_new_refuses_to_overwrite_a_practice(make_site, run):
    root = make_site()
    before = (root / "content/practices/lapland.md").read_text()
    status, out, err = run("new", "Lapland", "--root", root)
    assert status == 1
    assert "content/practices/lapland.md: error: already exists; nothing was overwritten" in err
    assert (root / "content/practices/lapland.md").read_text() == before


def test_new_outside_a_site_says_what_to_do(tmp_path, run):
    status, out, err = run("new", "Anything", "--root", tmp_path)
    assert status == 1
    assert "no content/ folder here: run `s3site init`" in err


def test_check_links_finds_a_planted_broken_link(make_site, run):
    root = make_site(site=SITE_YAML + "search: false\n")
    status, out, err = run("check", "--links", "--root", root)
    assert status == 1
    assert "no built site to check; run s3site build first" in err

    assert run("build", "--root", root)[0] == 0
    status, out, err = run("check", "--links", "--root", root)
    assert status == 0, err
    assert re.search(r"^Links: \d+ pages checked, 0 broken$", out, re.MULTILINE)

    page = root / "output/practices/lapland/index.html"
    page.write_text(page.read_text().replace("</main>", '<a href="../nowhere/">x</a></main>'))
    status, out, err = run("check", "--links", "--root", root)
    assert status == 1
    page_path = root / "output/practices/lapland/index.html"
    assert f"{page_path}: error: broken link to ../nowhere/" in err
    assert "1 broken" in out

    # The same output checked for another address: every internal link is then outside it.
    status, out, err = run("check", "--links", "--root", root, "--base-url", "https://example.org/sub")
    assert status == 1


def test_the_editors_guide_lists_every_field():
    guide = (Path(__file__).parent.parent / "docs/editors.md").read_text(encoding="utf-8")
    rows = dict(re.findall(r"^\| `([a-z_.]+)` \| (yes)? ?\|", guide, re.MULTILINE))
    declared = {spec.name: spec.required for spec in PRACTICE_FIELDS if spec.name != "city"}
    declared |= {f"location.{spec.name}": spec.required for spec in LOCATION_FIELDS}
    assert {name: bool(required) for name, required in rows.items()} == declared
