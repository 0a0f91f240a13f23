"""Import: good-practice pages saved as text become practice files, field by field."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml
from conftest import REPO, SEED

from s3site.builder import load
from s3site.importer import parse_date
from s3site.markup import split_front_matter

FIXTURES = Path(__file__).parent / "fixtures" / "import"


def import_file(run, root: Path, name: str, *args: str) -> tuple[Path, dict, str, str]:
    """Import one fixture; return the file written, its front matter, its body and the report."""
    status, out, err = run("import", FIXTURES / name, "--root", root, *args)
    assert status == 0, err
    written = [line.split(" wrote ", 1)[1].split(" (draft", 1)[0]
               for line in out.splitlines() if " wrote " in line]
    assert len(written) == 1, out
    path = Path(written[0])
    front, body, _ = split_front_matter(path.read_text(encoding="utf-8"))
    return path, yaml.safe_load(front), body, out


@pytest.mark.skipif(not SEED.is_file(), reason="the shared seed is not beside this checkout")
def test_the_seed_fixture_is_the_seed():
    assert (FIXTURES / "seed.txt").read_bytes() == SEED.read_bytes()


def test_importing_the_seed_gives_its_facts_one_by_one(make_site, run):
    root = make_site()
    path, front, body, report = import_file(
        run, root, "seed.txt", "--theme", "social-economy", "--theme", "smart-specialisation")
    # The copy lost its title line: the first line is offered and the file is a draft.
    assert front["title"] == ("Smart specialisation is an innovative approach that aims to "
                              "boost growth and…")
    assert front["draft"] is True
    assert "REVIEW: the source has no title line" in path.read_text()
    assert "review: title: the source has no title line" in report
    assert front["summary"] == (
        "Smart specialisation is an innovative approach that aims to boost growth and jobs in "
        "Europe, by enabling regions to develop their own competitive advantage.")
    assert front["themes"] == ["social-economy", "smart-specialisation"]
    assert front["location"] == {"country": "FI", "region": "FI1D"}
    assert front["main_institution"] == "Regional Council of Lapland"
    assert front["leading_region"] == "ES22"
    assert front["participating_regions"] == ["FI1D7", "ITH5", "ES62", "SE124"]
    assert front["start"] == "2018-06"
    assert front["end"] is None
    assert front["author"] == {"name": "Marlene Kohllechner-Autto"}
    assert front["followers"] == [
        {"name": "María Jesús Caballero Yéboles", "organisation": "Junta de Castilla y Leon"}]
    text = path.read_text(encoding="utf-8")
    for original in ["# Navarra, Spain", "# Lapland, Finland", "# Örebro Län, Sweden",
                     "# Pohjois- ja Itä-Suomi, Finland (Suomi)", "# June 2018"]:
        assert original in text, original
    assert "Please login" not in text
    assert "\n\n- develop social economy clusters;\n- create European" in body

    # It builds, and reads the same as the example site's transcription of the seed.
    assert run("build", "--root", root, "--drafts")[0] == 0
    site = load(root, drafts=True).site
    practice = next(p for p in site.practices if p.source == f"content/practices/{path.name}")
    assert practice.status == "ongoing"
    assert [r.code for r in practice.location_chain] == ["FI", "FI1", "FI1D"]
    assert practice.leading.code == "ES22"
    assert [r.code for r in practice.participants] == ["FI1D7", "ITH5", "ES62", "SE124"]
    assert str(practice.start) == "2018-06" and practice.end is None
    example = next(p for p in load(REPO).site.practices
                   if p.slug == "establishment-of-social-economy-s3-platform")
    for name in ["description_html", "resources_needed_html", "evidence_of_success_html",
                 "potential_for_transfer_html"]:
        assert getattr(practice, name) == getattr(example, name), name
    assert (root / "output/practices" / path.stem / "index.html").is_file()


# Each fixture's expected front matter, field by field; None: the key is absent.
EXPECTED = {
    "missing-title.txt": {
        "title": "Vouchers let small firms buy their first research service from a university or…",
        "draft": True,
        "summary": "Vouchers let small firms buy their first research service from a "
                   "university or an institute.",
        "location": {"country": "PL", "region": "PL21"},
        "main_institution": "Małopolska Centre of Entrepreneurship",
        "leading_region": "PL21",
        "participating_regions": None,
        "start": "2016-03",
        "end": "2021-12",
        "author": {"name": "Anna Kowalczyk"},
        "followers": [{"name": "Jan Novák", "organisation": "Jihomoravské inovační centrum"}],
    },
    "several-followers.txt": {
        "title": "Cluster associations for Basque manufacturing",
        "draft": None,
        "summary": "A regional programme that has funded industry-led cluster associations "
                   "for three decades.",
        "location": {"country": "ES", "region": "ES21"},
        "main_institution": "Basque Business Development Agency (SPRI)",
        "leading_region": "ES21",
        "participating_regions": ["ES22", "FRI"],
        "start": 1991,
        "end": None,
        "author": {"name": "Iñaki Etxeberria"},
        "followers": [
            {"name": "Ana Marques", "organisation": "CCDR Norte"},
            {"name": "Dimitris Georgiou", "organisation": "Region of Central Macedonia"},
            {"name": "Kaisa Mäkinen", "organisation": "Council of Tampere Region"},
        ],
    },
    "city-location.txt": {
        "title": "Shared electric cars that feed the grid",
        "draft": True,  # one participating region and one line could not be mapped
        "location": {"country": "NL", "region": "NL35", "city": "Utrecht"},
        "main_institution": "Municipality of Utrecht",
        "leading_region": None,
        "participating_regions": ["NL35"],
        "start": 2019,
        "end": None,
        "author": {"name": "Pieter de Vries"},
        "followers": None,
    },
    "non-ascii.txt": {
        "title": "Energy community of Tílos",
        "draft": None,
        "summary": "An island of 500 inhabitants that runs on wind and sun, with a battery "
                   "that keeps the lights on.",
        "location": {"country": "EL", "region": "EL42"},
        "main_institution": "Municipality of Tílos",
        "leading_region": "EL42",
        "participating_regions": ["EL43", "FI20"],
        "start": "2017-09-01",
        "end": "2021-08",
        "author": {"name": "Δήμητρα Παπαδοπούλου"},
        "followers": [{"name": "Zoë Ångström", "organisation": "Länsstyrelsen i Örebro län"}],
    },
}


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_each_fixture_gives_its_expected_fields(make_site, run, name):
    root = make_site()
    path, front, body, report = import_file(run, root, name, "--theme", "energy")
    front = {key: (value.isoformat() if hasattr(value, "isoformat") else value)
             for key, value in front.items()}
    for key, expected in EXPECTED[name].items():
        assert front.get(key) == expected, key
    assert front["themes"] == ["energy"]
    assert body.count("\n## ") + body.startswith("## ") == 3
    assert path.name == f"{path.stem}.md" and path.parent == root / "content/practices"
    status, out, err = run("check", "--root", root, "--drafts")
    assert status == 0, err


def test_what_cannot_be_mapped_is_kept_marked_and_reported(make_site, run):
    root = make_site()
    path, front, body, report = import_file(run, root, "city-location.txt")
    text = path.read_text(encoding="utf-8")
    unmapped = text.split("# REVIEW: not mapped from the source; kept here as written:\n", 1)[1]
    assert unmapped.startswith("#   Atlantis, Spain\n#   Share this page\n---\n")
    assert "unknown region 'Atlantis' in ES" in text
    assert "not mapped (kept in a REVIEW comment): Atlantis, Spain" in report
    assert "not mapped (kept in a REVIEW comment): Share this page" in report
    assert ("review: participating_regions: 'Atlantis, Spain': "
            "unknown region 'Atlantis' in ES") in report
    # No theme was given and the source has none: left for the editor, and check says so.
    assert front["themes"] is None
    assert "themes:" in text and "REVIEW: not in the source" in text
    status, out, err = run("check", "--root", root, "--drafts")
    assert status == 1 and "missing required field 'themes'" in err


def test_dry_run_writes_nothing_and_shows_the_file(make_site, run):
    root = make_site()
    before = sorted(p for p in root.rglob("*"))
    status, out, err = run("import", *sorted(FIXTURES.glob("*.txt")), "--root", root, "--dry-run")
    assert status == 0, err
    assert sorted(p for p in root.rglob("*")) == before
    assert out.count(" would write ") == 5
    assert "title: Energy community of Tílos" in out
    assert out.rstrip().endswith(
        "Would import 5 of 5 files, 3 to review; dry run: nothing was written")


def test_import_never_overwrites(make_site, run):
    root = make_site()
    path, *_ = import_file(run, root, "non-ascii.txt")
    path.write_text("edited by hand\n")
    status, out, err = run("import", FIXTURES / "non-ascii.txt", "--root", root)
    assert status == 1
    assert (f"not imported: {root}/content/practices/energy-community-of-tilos.md: error: "
            "already exists; nothing was overwritten") in out
    assert path.read_text() == "edited by hand\n"


def test_import_into_another_folder_with_an_unknown_theme_is_refused(make_site, run, tmp_path):
    root = make_site()
    status, out, err = run("import", FIXTURES / "seed.txt", "--root", root,
                           "--theme", "socal-economy", "--into", tmp_path / "elsewhere")
    assert status == 1
    assert "unknown theme 'socal-economy' (did you mean 'social-economy'?)" in err
    assert not (tmp_path / "elsewhere").exists()
    status, out, err = run("import", FIXTURES / "seed.txt", "--root", root,
                           "--into", tmp_path / "elsewhere")
    assert status == 0, err
    assert len(list((tmp_path / "elsewhere").glob("*.md"))) == 1


@pytest.mark.parametrize(
    ("text", "expected"),
    [("June 2018", "2018-06"), ("Sept. 2019", "2019-09"), ("1 September 2017", "2017-09-01"),
     ("2018", "2018"), ("2018-6", "2018-06"), ("06/2018", "2018-06"), ("juin 2018", None),
     ("03/06/2018", None), ("June 1850", None), ("2018-13", None), ("", None), ("Ongoing", None)],
)
def test_dates_are_read_only_when_they_are_clear(text, expected):
    assert parse_date(text) == expected
