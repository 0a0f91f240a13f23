"""Open data: every practice as JSON and CSV, for reuse by others.

The JSON keeps every field (Markdown sections as HTML) and is documented in
docs/open-data.md; the CSV keeps one row a practice with the fields that fit
in a cell. CSV cells that a spreadsheet would run as a formula are defused.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Callable, Iterator, Sequence
from typing import Any

import orjson

from .model import Practice, Site
from .records import FileRecords

FORMAT_VERSION = 1
CHUNK_SIZE = 1 << 18  # bytes handed to the writer at a time: few writes, little memory
CSV_COLUMNS = (
    "slug", "url", "title", "summary", "themes", "country", "country_name", "region",
    "region_name", "city", "main_institution", "leading_region", "participating_regions",
    "start", "end", "status", "implementation_level", "website", "keywords", "author",
    "followers", "published", "updated",
)


def practice_record(practice: Practice, site: Site) -> dict[str, Any]:
    """One practice as plain JSON-ready data."""
    origin = site.settings.origin
    location = practice.location
    return {
        "slug": practice.slug,
        "url": origin + practice.url,
        "title": practice.title,
        "summary": practice.summary,
        "themes": [{"id": t.id, "title": t.title} for t in practice.theme_objects],
        "location": {
            "country": practice.location_chain[0].code,
            "country_name": practice.location_chain[0].name,
            "region": location.code if location and location.level > 0 else None,
            "region_name": location.name if location and location.level > 0 else None,
            "chain": [{"code": r.code, "name": r.name, "level": r.level} for r in practice.location_chain],
            "city": practice.city or None,
        },
        "main_institution": practice.main_institution,
        "leading_region": _region(practice.leading),
        "participating_regions": [_region(r) for r in practice.participants],
        "start": str(practice.start),
        "end": str(practice.end) if practice.end else None,
        "status": practice.status,
        "implementation_level": practice.implementation_level or None,
        "author": _person(practice.author) if practice.author else None,
        "followers": [_person(p) for p in practice.followers],
        "keywords": list(practice.keywords),
        "website": practice.website or None,
        "published": practice.published.isoformat() if practice.published else None,
        "updated": practice.updated.isoformat() if practice.updated else None,
        "project": {"title": practice.project.title, "url": practice.project.url} if practice.project else None,
        "image": {"src": practice.image.src, "alt": practice.image.alt} if practice.image else None,
        "attachments": [{"title": a.title, "url": a.url} for a in practice.attachments],
        "lang": practice.lang or site.settings.language,
        "description_html": practice.description_html,
        "resources_needed_html": practice.resources_needed_html or None,
        "evidence_of_success_html": practice.evidence_of_success_html or None,
        "potential_for_transfer_html": practice.potential_for_transfer_html or None,
        "other_sections": [
            {"title": s.title, "html": s.html} for s in practice.extra_sections
        ],
        "expert_opinion_html": practice.expert_opinion_html or None,
        "related": [origin + r.url for r in practice.related],
    }


def _region(region: Any) -> dict[str, Any] | None:
    if region is None:
        return None
    return {"code": region.code, "name": region.name, "level": region.level, "country": region.country}


def _person(person: Any) -> dict[str, Any]:
    return {"name": person.name, "organisation": person.organisation or None}


def dumps(data: Any) -> bytes:
    """JSON as s3site writes it: stable key order, UTF-8, compact, a final newline.

    orjson gives the bytes json.dumps(data, ensure_ascii=False, separators=(",", ":"),
    sort_keys=True) gives, for s3site's data (strings, integers, lists, mappings; no
    floats), four times as fast: a practice's record was a fifth of its rendering.
    """
    return orjson.dumps(data, option=orjson.OPT_SORT_KEYS | orjson.OPT_APPEND_NEWLINE)


def practice_json(practice: Practice, site: Site) -> bytes:
    return dumps({"format_version": FORMAT_VERSION, "practice": practice_record(practice, site)})


# The start of each practice's own index.json, before its record.
_OWN_FILE_HEAD = dumps({"format_version": FORMAT_VERSION, "practice": None})[: -len(b"null}\n")]


def practices_json(
    site: Site,
    own_file: Callable[[Practice], bytes | None] | None = None,
    records: FileRecords | None = None,
) -> Iterator[bytes]:
    """All practices as one JSON document, a record at a time.

    The same bytes as dumps() of the whole document, without ever holding
    every practice's HTML in memory at once. A record is copied from the
    published file when `records` has it unchanged, else from the practice's
    own index.json (`own_file`) when that has been made, else encoded.
    """

    def record(practice: Practice) -> bytes:
        own = own_file(practice) if own_file else None
        if own and own.startswith(_OWN_FILE_HEAD) and own.endswith(b"}\n"):
            return own[len(_OWN_FILE_HEAD) : -2]
        return dumps(practice_record(practice, site)).rstrip(b"\n")

    head = dumps({"count": len(site.practices), "format_version": FORMAT_VERSION}).rstrip(b"}\n")
    site_info = dumps({"title": site.settings.title, "url": site.settings.base_url}).rstrip(b"\n")
    return _record_file(head + b',"practices":[', site.practices, record, records,
                        separator=b",", tail=b'],"site":' + site_info + b"}\n")


def defuse(cell: str) -> str:
    """Stop a spreadsheet from running a cell as a formula (CSV injection)."""
    if cell and cell[0] in "=+-@\t\r":
        return "'" + cell
    return cell


def practices_csv(site: Site, records: FileRecords | None = None) -> Iterator[bytes]:
    """All practices as CSV, a row at a time, copied from the published file when unchanged."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n")
    # A BOM lets spreadsheet programs recognise UTF-8 (names with accents).
    buffer.write("\ufeff")
    writer.writerow(CSV_COLUMNS)
    head = buffer.getvalue().encode()

    def row(practice: Practice) -> bytes:
        buffer.seek(0)
        buffer.truncate()
        writer.writerow([defuse(cell) for cell in _csv_cells(practice, site.settings.origin)])
        return buffer.getvalue().encode()

    return _record_file(head, site.practices, row, records)


def _record_file(
    head: bytes,
    practices: Sequence[Practice],
    make: Callable[[Practice], bytes],
    records: FileRecords | None,
    *,
    separator: bytes = b"",
    tail: bytes = b"",
) -> Iterator[bytes]:
    """A data file of one record a practice, in chunks of about CHUNK_SIZE bytes.

    Runs of records unchanged since the published file are copied from it,
    the others made; where each lands in the new file is noted for the next
    build.
    """
    offset = len(head)
    chunk, size = [head], len(head)
    try:
        number = 0
        while number < len(practices):
            if number and separator:
                chunk.append(separator)
                offset += len(separator)
                size += len(separator)
            count, record = records.copy_run(practices, number, offset, separator, CHUNK_SIZE) if records else (0, b"")
            if count:
                number += count
            else:
                record = make(practices[number])
                if records:
                    records.note(practices[number], offset, offset + len(record))
                number += 1
            offset += len(record)
            if len(record) >= CHUNK_SIZE // 4:  # a long run: handed on as read, not copied again
                yield b"".join(chunk)
                yield record
                chunk, size = [], 0
                continue
            chunk.append(record)
            size += len(record)
            if size > CHUNK_SIZE:
                yield b"".join(chunk)
                chunk, size = [], 0
    finally:
        if records:
            records.close()
    chunk.append(tail)
    yield b"".join(chunk)


def _csv_cells(practice: Practice, origin: str) -> tuple[str, ...]:
    """The CSV's fields of practice_record(), in CSV_COLUMNS order, without making the whole record."""
    country, location = practice.location_chain[0], practice.location
    regional = location is not None and location.level > 0
    return (
        practice.slug,
        origin + practice.url,
        practice.title,
        practice.summary,
        "; ".join(t.id for t in practice.theme_objects),
        country.code,
        country.name,
        location.code if regional else "",
        location.name if regional else "",
        practice.city,
        practice.main_institution,
        practice.leading.code if practice.leading else "",
        "; ".join(r.code for r in practice.participants),
        str(practice.start),
        str(practice.end) if practice.end else "",
        practice.status,
        practice.implementation_level,
        practice.website,
        "; ".join(practice.keywords),
        practice.author.name if practice.author else "",
        "; ".join(f"{p.name} ({p.organisation})" if p.organisation else p.name for p in practice.followers),
        practice.published.isoformat() if practice.published else "",
        practice.updated.isoformat() if practice.updated else "",
    )
