"""End to end: practice files in, a complete browsable site out."""

from __future__ import annotations

import csv
import io
import json
import re
import shutil
from pathlib import Path

from conftest import REPO, practice_text

from s3site.links import check_links, page_links


def build(run, root: Path, *args: str) -> Path:
    status, out, err = run("build", "--root", root, *args)
    assert status == 0, err
    return root / "output"


def test_build_writes_every_page_type(make_site, run):
    root = make_site(
        {
            "lapland.md": practice_text(participating_regions="[FI1D7, Emilia-Romagna]",
                                        leading_region="Navarra"),
            "energy.md": practice_text(title="Island energy", themes="[energy, social-economy]",
                                       location="{country: EL, region: EL421}", end="2020"),
            "third.md": practice_text(title="Third one", location="{country: ES}"),
        },
        pages={"about.md": "---\ntitle: About us\nmenu: 1\n---\nWho we are.\n"},
    )
    status, out, err = run("build", "--root", root)
    assert status == 0, err
    assert re.match(r"Built 3 practices: \d+ pages, \d+ files .* in \d+\.\d\d s", out)
    output = root / "output"
    for path in [
        "index.html", "practices/index.html", "practices/page/2/index.html",
        "practices/lapland/index.html", "practices/lapland/index.json",
        "themes/index.html", "themes/social-economy/index.html", "themes/energy/feed.xml",
        "regions/index.html", "regions/fi/index.html", "regions/fi1d/index.html",
        "regions/es22/index.html", "regions/fi/feed.xml", "about/index.html", "404.html",
        "feed.xml", "sitemap.xml", "robots.txt", "practices.json", "practices.csv",
        "assets/s3site.css",
    ]:
        assert (output / path).is_file(), path
    pages, broken = check_links(output, "https://example.org/")
    assert pages > 10
    assert [b for b in broken if "/search/" not in b.target] == []


def test_practice_page_shows_status_regions_and_sections(make_site, run):
    root = make_site({"done.md": practice_text(end="2019-12", leading_region="ES22",
                                               participating_regions="[SE124]")})
    html = (build(run, root) / "practices/done/index.html").read_text()
    assert "Completed" in html
    assert 'href="/regions/es22/"' in html and "Navarra" in html
    assert 'href="/regions/se124/"' in html
    assert '<h2 id="resources-needed">Resources needed</h2>' in html
    assert '"@type": "CreativeWork"' in html


def test_region_pages_list_located_leading_and_participating(make_site, run):
    root = make_site({"p.md": practice_text(leading_region="ES22", participating_regions="[ITH5]")})
    output = build(run, root)
    located = (output / "regions/fi1d/index.html").read_text()
    assert "Practices located in" in located and "/practices/p/" in located
    leads = (output / "regions/es22/index.html").read_text()
    lead_section = leads.split('id="leads"')[1].split("</section>")[0]
    assert "/practices/p/" in lead_section
    joins = (output / "regions/ith5/index.html").read_text()
    assert "/practices/p/" in joins.split('id="joins"')[1]


def test_sub_path_base_url_keeps_every_link_inside(make_site, run):
    root = make_site({"p.md": practice_text(), "q.md": practice_text(title="Q", body="See [x](/about/).\n")},
                     pages={"about.md": "---\ntitle: About\n---\nHi\n"})
    output = build(run, root, "--base-url", "https://example.org/practices/")
    for page in output.rglob("*.html"):
        for link in page_links(page.read_text()):
            if link.startswith("/"):
                assert link.startswith("/practices/"), (page, link)
    _, broken = check_links(output, "https://example.org/practices/")
    assert [b for b in broken if "/search/" not in b.target] == []
    feed = (output / "feed.xml").read_text()
    assert "https://example.org/practices/practices/p/" in feed
    assert 'href="/practices/about/"' in (output / "practices/q/index.html").read_text()


def test_two_builds_are_byte_identical(make_site, run, tmp_path):
    root = make_site({"a.md": practice_text(), "b.md": practice_text(title="B", themes="[energy]")})
    first = build(run, root)
    copy = tmp_path / "first"
    shutil.copytree(first, copy)
    shutil.rmtree(first)
    second = build(run, root)
    files_a = sorted(p.relative_to(copy) for p in copy.rglob("*") if p.is_file())
    files_b = sorted(p.relative_to(second) for p in second.rglob("*") if p.is_file())
    assert files_a == files_b
    for relative in files_a:
        assert (copy / relative).read_bytes() == (second / relative).read_bytes(), relative


def test_site_template_overrides_the_package_default(make_site, run):
    root = make_site(templates={"partials/card.html": "<li>CUSTOM {{ item.title }}</li>\n"})
    html = (build(run, root) / "practices/index.html").read_text()
    assert "<li>CUSTOM Lapland cooperatives</li>" in html


def test_aliases_redirect_to_the_practice(make_site, run):
    root = make_site({"p.md": practice_text(aliases="[/old/place/]")})
    html = (build(run, root) / "old/place/index.html").read_text()
    assert 'content="0; url=/practices/p/"' in html


def test_open_data_holds_every_practice(make_site, run):
    root = make_site({"a.md": practice_text(), "b.md": practice_text(title="=SUM(A1)")})
    output = build(run, root)
    data = json.loads((output / "practices.json").read_text())
    assert data["count"] == 2
    assert {p["slug"] for p in data["practices"]} == {"a", "b"}
    assert data["practices"][0]["location"]["chain"][0]["code"] == "FI"
    csv_text = (output / "practices.csv").read_text(encoding="utf-8-sig")
    assert "'=SUM(A1)" in csv_text
    one = json.loads((output / "practices/a/index.json").read_text())
    assert one["practice"]["title"] == "Lapland cooperatives"


def test_drafts_are_left_out_unless_asked(make_site, run):
    root = make_site({"a.md": practice_text(), "d.md": practice_text(title="Draft", draft="true")})
    output = build(run, root)
    assert not (output / "practices/d").exists()
    output = build(run, root, "--drafts")
    assert "Draft: this practice is not published yet" in (output / "practices/d/index.html").read_text()


def test_static_files_are_copied(make_site, run):
    root = make_site(files={"content/static/docs/report.pdf": b"%PDF-1.4"})
    assert (build(run, root) / "docs/report.pdf").read_bytes() == b"%PDF-1.4"


def test_unchanged_files_are_not_rewritten(make_site, run):
    root = make_site()
    output = build(run, root)
    css = output / "assets/s3site.css"
    before = css.stat().st_mtime_ns
    (root / "content/practices/lapland.md").write_text(practice_text(title="Changed"))
    output = build(run, root)
    assert css.stat().st_mtime_ns == before
    assert "Changed" in (output / "practices/lapland/index.html").read_text()


def test_example_site_builds_with_the_seed_practice(run, tmp_path):
    status, out, err = run("build", "--root", REPO, "--output", tmp_path / "out", "--strict")
    assert status == 0, err
    html = (tmp_path / "out/practices/establishment-of-social-economy-s3-platform/index.html").read_text()
    for text in ("Establishment of Social Economy Smart Specialisation Platform (S3)",
                 "Resources needed", "Evidence of success", "Potential for learning or transfer",
                 "ERDF grants of up to 300", "Regional Council of Lapland", "Navarra", "Lappi",
                 "Emilia-Romagna", "Región de Murcia", "Örebro län",
                 "María Jesús Caballero Yéboles", "Junta de Castilla y León", "Ongoing", "June 2018"):
        assert text in html, text
    assert 'href="/regions/fi/"' in html and 'href="/regions/fi1d/"' in html


def test_local_images_get_their_width_and_height(make_site, run):
    import struct
    import zlib

    header = struct.pack(">IIBBBBB", 640, 480, 8, 2, 0, 0, 0)
    png = (b"\x89PNG\r\n\x1a\n" + struct.pack(">I", 13) + b"IHDR" + header
           + struct.pack(">I", zlib.crc32(b"IHDR" + header)))
    root = make_site(
        {"p.md": practice_text(image="{src: /img/photo.png, alt: A wind farm}",
                               body="Text.\n\n![A map](/img/photo.png)\n")},
        files={"content/static/img/photo.png": png},
    )
    html = (build(run, root, "--base-url", "https://example.org/sub/") / "practices/p/index.html").read_text()
    assert re.search(r'<img data-pagefind-meta="image\[src\], image_alt\[alt\]" src="/sub/img/photo.png" alt="A wind farm" width="640" height="480" loading="lazy">', html)
    inline = re.search(r'<img[^>]*alt="A map"[^>]*>', html).group(0)
    assert 'width="640"' in inline and 'height="480"' in inline and 'loading="lazy"' in inline
    assert 'src="/sub/img/photo.png"' in inline


def test_open_data_files_agree_with_each_practices_record(make_site, run):
    from s3site import opendata
    from s3site.builder import load

    rich = practice_text(title="Rich", author="{name: A, organisation: B}", end="2019-05",
                         followers="[{name: C, organisation: D}, {name: E}]", keywords="[x, y]",
                         leading_region="ES22", participating_regions="[ITH5, SE124]",
                         published="2020-01-02", website="https://example.org/r")
    root = make_site({"a.md": practice_text(location="{country: ES}"), "rich.md": rich})
    output = build(run, root)
    site = load(root).site
    records = [opendata.practice_record(p, site) for p in site.practices]
    # The whole document encoded at once: what the streamed, copied records must add up to.
    assert (output / "practices.json").read_bytes() == opendata.dumps(
        {"count": 2, "format_version": 1, "practices": records,
         "site": {"title": site.settings.title, "url": site.settings.base_url}})
    rows = list(csv.reader(io.StringIO((output / "practices.csv").read_text(encoding="utf-8-sig"))))
    assert rows[0] == list(opendata.CSV_COLUMNS)
    for row, record in zip(rows[1:], records, strict=True):
        cells = dict(zip(opendata.CSV_COLUMNS, row, strict=True))
        location = record["location"]
        assert cells["url"] == record["url"] and cells["end"] == (record["end"] or "")
        assert cells["country_name"] == location["country_name"]
        assert cells["region"] == (location["region"] or "") and cells["city"] == (location["city"] or "")
        assert cells["themes"] == "; ".join(t["id"] for t in record["themes"])
        assert cells["leading_region"] == (record["leading_region"] or {}).get("code", "")
        assert cells["participating_regions"] == "; ".join(r["code"] for r in record["participating_regions"])
        assert cells["author"] == (record["author"] or {}).get("name", "")
        assert cells["published"] == (record["published"] or "")
    rich_row = next(row for row in rows if row[0] == "rich")
    assert rich_row[opendata.CSV_COLUMNS.index("followers")] == "C (D); E"


def test_a_pager_links_the_first_two_the_last_two_and_two_either_side_of_the_page():
    from s3site.render import Pager

    for count in range(1, 41):
        urls = tuple(f"/practices/page/{n}/" for n in range(1, count + 1))
        for number in range(1, count + 1):
            expected = []
            for n in range(1, count + 1):  # the rule, page by page
                if n <= 2 or n > count - 2 or abs(n - number) <= 2:
                    expected.append((n, urls[n - 1]))
                elif n in (3, count - 2):
                    expected.append((n, None))  # one "…" for the pages left out
            assert Pager(number, count, (), urls, count * 20, 1).shown == tuple(expected), (count, number)
