"""Bad input: every problem reported as path:line:col, exit 1, output untouched."""

from __future__ import annotations

from pathlib import Path

import pytest
from conftest import practice_text


def build_fails(run, root: Path) -> str:
    output = root / "output"
    before = {p: p.read_bytes() for p in output.rglob("*") if p.is_file()} if output.exists() else {}
    status, out, err = run("build", "--root", root)
    assert status == 1, out + err
    after = {p: p.read_bytes() for p in output.rglob("*") if p.is_file()} if output.exists() else {}
    assert before == after, "a failed build changed the output folder"
    assert "Traceback" not in err
    return err


@pytest.mark.parametrize(
    ("fields", "expected"),
    [
        ({"title": None}, "content/practices/p.md:1: error: missing required field 'title'"),
        ({"themes": "[socal-economy]"},
         "content/practices/p.md:4:10: error: unknown theme 'socal-economy' (did you mean 'social-economy'?)"),
        ({"start": "June 2018"},
         "content/practices/p.md:7:1: error: start: 'June 2018' is not a date as YYYY, YYYY-MM or YYYY-MM-DD"),
        ({"start": "2018-13"}, "content/practices/p.md:7:1: error: start: '2018-13' is not a real date"),
        ({"end": "2017-01"}, "content/practices/p.md:8:1: error: end 2017-01 is before start 2018-06"),
        ({"website": "javascript:alert(1)"},
         "content/practices/p.md:8:1: error: website: 'javascript:alert(1)' is not an http(s) address"),
        ({"website": '"https://example.org/a\u00a0page"'},
         "content/practices/p.md:8:1: error: website: 'https://example.org/a\u00a0page' contains spaces"),
        ({"themes": "social-economy, [x"}, "content/practices/p.md:4:"),
        ({"slug": "Bad Slug"}, "content/practices/p.md:8:1: error: slug: 'Bad Slug' is not a valid slug"),
        ({"location": "{country: XX}"}, "error: location.country: unknown country 'XX'"),
        ({"followers": "[{name: A, company: B}]"}, "error: followers: item 1: unknown key 'company'"),
        ({"body": "## Resources needed\n\nMoney only.\n"}, "content/practices/p.md:10: error: the description is empty"),
    ],
)
def test_each_error_names_file_line_and_field(make_site, run, fields, expected):
    root = make_site({"p.md": practice_text(**fields)})
    assert expected in build_fails(run, root)


def test_every_problem_in_every_file_is_reported_in_one_run(make_site, run):
    root = make_site(
        {
            "a.md": practice_text(themes="[nope]", start="someday"),
            "b.md": practice_text(title=None),
            "c.md": "no front matter here\n",
        }
    )
    err = build_fails(run, root)
    assert "a.md:4:10: error: unknown theme 'nope'" not in err  # a.md stops at its parse errors
    assert "a.md:7:1: error: start:" in err
    assert "b.md:1: error: missing required field 'title'" in err
    assert "c.md:1:1: error: no front matter" in err
    assert "Stopped: 3 errors; nothing was written." in err


def test_failed_build_leaves_previous_output_untouched(make_site, run):
    root = make_site()
    assert run("build", "--root", root)[0] == 0
    (root / "content/practices/lapland.md").write_text(practice_text(themes="[bogus]"))
    build_fails(run, root)
    assert (root / "output/practices/lapland/index.html").is_file()


def test_duplicate_slugs_name_both_files(make_site, run):
    root = make_site({"a.md": practice_text(slug="same"), "b.md": practice_text(slug="same")})
    err = build_fails(run, root)
    assert "content/practices/b.md:8:1: error: slug 'same' is already used by content/practices/a.md" in err


def test_a_slug_taken_by_an_edit_points_at_the_unchanged_files_slug_line(make_site, run):
    """The later file comes from the cache, resolved: it still knows where its slug is."""
    root = make_site({"a.md": practice_text(slug="other"), "b.md": practice_text(slug="same")})
    assert run("build", "--root", root)[0] == 0
    (root / "content/practices/a.md").write_text(practice_text(slug="same"))
    err = build_fails(run, root)
    assert "content/practices/b.md:8:1: error: slug 'same' is already used by content/practices/a.md" in err


def test_malformed_yaml_gives_line_and_column(make_site, run):
    root = make_site({"p.md": "---\ntitle: A\nsummary: [unclosed\nthemes: x\n---\nText\n"})
    err = build_fails(run, root)
    assert "content/practices/p.md:" in err and "invalid YAML" in err


def test_unclosed_front_matter(make_site, run):
    root = make_site({"p.md": "---\ntitle: A\n\nText without end\n"})
    assert "p.md:1:1: error: the front matter opened by '---' on line 1 is never closed" in build_fails(run, root)


def test_unknown_field_is_a_warning_and_an_error_when_strict(make_site, run):
    root = make_site({"p.md": practice_text(sumary="typo")})
    status, out, err = run("build", "--root", root)
    assert status == 0
    assert "p.md:8:1: warning: unknown field 'sumary' (did you mean 'summary'?)" in err
    status, out, err = run("build", "--root", root, "--strict")
    assert status == 1
    assert "p.md:8:1: error: unknown field 'sumary'" in err


def test_unknown_region_suggests_names(make_site, run):
    root = make_site({"p.md": practice_text(location="{country: FI, region: Lapplnd}")})
    assert "p.md:5:25: error: location.region: unknown region 'Lapplnd' in FI (did you mean 'Lappi' (FI1D7)" in build_fails(run, root)


def test_bad_site_yaml_and_themes(make_site, run):
    root = make_site(site="title: T\nper_page: many\n", themes="- id: Bad Id\n  title: X\n")
    err = build_fails(run, root)
    assert "content/site.yaml:2:1: error: per_page: expected a whole number, got 'many'" in err
    assert "content/themes.yaml:1: error: theme 1: id: 'Bad Id' is not a valid slug" in err


def test_check_validates_without_writing(make_site, run):
    root = make_site()
    status, out, err = run("check", "--root", root)
    assert status == 0 and "OK: 1 practices" in out
    assert not (root / "output").exists()
    (root / "content/practices/lapland.md").write_text(practice_text(themes="[bogus]"))
    status, out, err = run("check", "--root", root)
    assert status == 1 and "unknown theme 'bogus'" in err


def test_broken_template_override_is_reported_not_raised(make_site, run):
    root = make_site(templates={"home.html": "{% extends 'base.html' %}{% block main %}{{ nope( }}{% endblock %}"})
    err = build_fails(run, root)
    assert "templates/home.html:1: error:" in err


def test_a_link_to_an_unknown_region_is_reported_where_the_template_asks_for_it(make_site, run):
    region = "{% extends 'base.html' %}{% block main %}\n{{ ('XX9' | region_link).url }}{% endblock %}"
    root = make_site(templates={"region.html": region})
    err = build_fails(run, root)
    assert "templates/region.html:2: error:" in err and "no region has the code 'XX9'" in err


def test_version_and_help(run, capsys):
    with pytest.raises(SystemExit) as exit_info:
        run("--version")
    assert exit_info.value.code == 0
    assert "s3site 0." in capsys.readouterr().out
    for command in ("build", "check"):
        with pytest.raises(SystemExit):
            run(command, "--help")
        assert "--strict" in capsys.readouterr().out


def test_norway_stays_norway(make_site, run):
    root = make_site({"no.md": practice_text(location="{country: NO}", main_institution="on")})
    status, out, err = run("build", "--root", root)
    assert status == 0, err
    assert "/regions/no/" in (root / "output/practices/no/index.html").read_text()
