"""The s3site command: a thin layer that parses options and calls the build.

No build logic lives here. A SiteError becomes a list of messages and exit
status 1; any other exception is a bug in s3site, reported in one line
(with the traceback under --debug).
"""

from __future__ import annotations

import argparse
import gc
import logging
import os
import sys
from collections.abc import Sequence
from pathlib import Path

from . import __version__
from .errors import SiteError

log = logging.getLogger("s3site")


def _add_common(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--root", type=Path, default=Path("."),
        help="the site folder, holding content/ and templates/ (default: the current folder)",
    )
    parser.add_argument("--strict", action="store_true", help="treat warnings as errors")
    parser.add_argument("--drafts", action="store_true", help="include practices marked draft: true")
    parser.add_argument("--debug", action="store_true", help="show tracebacks and debug messages")


def make_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="s3site",
        description="Build a static website from a folder of regional good practices.",
    )
    parser.add_argument("--version", action="version", version=f"s3site {__version__}")
    commands = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)

    build = commands.add_parser("build", help="build the site into the output folder",
                                description="Build content/ into a static site.")
    _add_common(build)
    build.add_argument("--output", "-o", type=Path, help="where to write the site (default: ROOT/output)")
    build.add_argument("--base-url", help="the address the site will be published at, overriding site.yaml")
    build.set_defaults(handler=_build)

    check = commands.add_parser("check", help="validate the content without writing anything",
                                description="Check every file and report every problem; write nothing.")
    _add_common(check)
    check.add_argument("--links", action="store_true",
                       help="also check every internal link of the site built in the output folder")
    check.add_argument("--output", "-o", type=Path,
                       help="the built site that --links checks (default: ROOT/output)")
    check.add_argument("--base-url",
                       help="the address that site was built for (default: site.yaml's)")
    check.set_defaults(handler=_check)
    _add_authoring(commands)

    serve = commands.add_parser(
        "serve", help="preview the site, rebuilt and reloaded on every change",
        description="Build the site, serve it and rebuild it whenever a file changes; "
        "open pages reload by themselves.")
    _add_common(serve)
    serve.add_argument("--no-drafts", dest="drafts", action="store_false",
                       help="hide practices marked draft: true (shown by default in the preview)")
    serve.add_argument("--host", default="127.0.0.1",
                       help="the address to listen on (default: 127.0.0.1, this computer only)")
    serve.add_argument("--port", type=int, default=8000,
                       help="the port to listen on (default: 8000; 0 picks a free one)")
    serve.add_argument("--open", action="store_true", help="open the preview in a web browser")
    serve.set_defaults(handler=_serve, drafts=True)
    return parser


def _add_authoring(commands: argparse._SubParsersAction) -> None:
    """The commands that write content: init, new, import, and the schema for editors."""
    init = commands.add_parser("init", help="start a new site that builds at once",
                               description="Write a new site: settings, themes, an example "
                               "practice, an about page, a README. No file is ever overwritten.")
    init.add_argument("folder", type=Path, metavar="DIR", help="the new site's folder")
    init.add_argument("--force", action="store_true",
                      help="also use a folder that is not empty (existing files are kept)")
    init.set_defaults(handler=_init)

    new = commands.add_parser("new", help="start a new practice from a template",
                              description="Write content/practices/<slug>.md with every field "
                              "to fill in, and print its path.")
    new.add_argument("title", help="the practice's title, which also gives the file name")
    new.add_argument("--theme", action="append", default=[], metavar="ID",
                     help="a theme id from content/themes.yaml (repeat for several)")
    new.add_argument("--region", metavar="CODE_OR_NAME", help="the region: a NUTS code or a name")
    new.add_argument("--country", metavar="CC", help="the country: a two-letter code or a name")
    new.set_defaults(handler=_new)

    imports = commands.add_parser("import", help="convert good-practice pages saved as text",
                                  description="Turn pages copied from a good-practice database "
                                  "into practice files, and report what needs review.")
    imports.add_argument("files", type=Path, nargs="+", metavar="FILE",
                         help="text files to convert")
    imports.add_argument("--into", type=Path,
                         help="the folder to write to (default: ROOT/content/practices)")
    imports.add_argument("--theme", action="append", default=[], metavar="ID",
                         help="a theme id to give every imported practice (repeat for several)")
    imports.add_argument("--dry-run", action="store_true",
                         help="show the report and the files, and write nothing")
    imports.set_defaults(handler=_import)

    schema = commands.add_parser("schema", help="print the JSON Schema of a kind of file",
                                 description="Print a JSON Schema for an editor's YAML extension.")
    schema.add_argument("--for", dest="kind", default="practice",
                        choices=("practice", "practice-yaml", "site", "themes"),
                        help="practice front matter (default), a pure-YAML practice, "
                        "site.yaml or themes.yaml")
    schema.set_defaults(handler=_schema)

    for parser in (new, imports):
        parser.add_argument("--root", type=Path, default=Path("."),
                            help="the site folder (default: the current folder)")
    for parser in (init, new, imports, schema):
        parser.add_argument("--debug", action="store_true", help="show tracebacks")


def _build(args: argparse.Namespace) -> int:
    from .builder import build

    result = build(args.root, output=args.output, base_url=args.base_url, strict=args.strict,
                   drafts=args.drafts)
    _print_warnings(result.warnings)
    print(result.summary())
    return 0


def _check(args: argparse.Namespace) -> int:
    from .builder import check

    loaded = check(args.root, strict=args.strict, drafts=args.drafts)
    _print_warnings(loaded.warnings)
    site = loaded.site
    print(f"OK: {len(site.practices)} practices, {len(site.themes)} themes, "
          f"{len(site.countries)} countries, {len(site.pages)} pages; no errors")
    return _check_links(args, site.settings.base_url) if args.links else 0


def _check_links(args: argparse.Namespace, base_url: str) -> int:
    from .config import normalise_base_url
    from .links import check_links

    output = args.output or args.root / "output"
    if not output.is_dir():
        print(f"{output}: error: no built site to check; run s3site build first", file=sys.stderr)
        return 1
    pages, broken = check_links(output, normalise_base_url(args.base_url or base_url))
    for link in broken:
        print(f"{output / link.page}: error: broken link to {link.target}", file=sys.stderr)
    print(f"Links: {pages} pages checked, {len(broken)} broken")
    return 1 if broken else 0


def _init(args: argparse.Namespace) -> int:
    from .scaffold import init_site

    print("\n".join(init_site(args.folder, force=args.force).lines()))
    return 0


def _new(args: argparse.Namespace) -> int:
    from .scaffold import new_practice

    path = new_practice(args.root, args.title, themes=args.theme, region=args.region,
                        country=args.country)
    print(path)
    print("Fill in the fields marked 'required' and the sections, then run s3site check.",
          file=sys.stderr)
    return 0


def _import(args: argparse.Namespace) -> int:
    from .importer import import_files, summary

    results = import_files(args.files, root=args.root, into=args.into, themes=args.theme,
                           dry_run=args.dry_run)
    for result in results:
        print("\n".join(result.lines(dry_run=args.dry_run)))
        if args.dry_run and result.text:
            print(result.text)
    print(summary(results, dry_run=args.dry_run))
    return 1 if any(result.problem for result in results) else 0


def _schema(args: argparse.Namespace) -> int:
    from .schema import schema_json

    sys.stdout.write(schema_json(args.kind))
    return 0


def _serve(args: argparse.Namespace) -> int:
    from .server import serve

    return serve(args.root, host=args.host, port=args.port, open_browser=args.open,
                 drafts=args.drafts, strict=args.strict)


def _print_warnings(warnings: Sequence[object]) -> None:
    for warning in warnings:
        print(warning, file=sys.stderr)


def main(argv: Sequence[str] | None = None, *, then_exit: bool = False) -> int:
    """Run the s3site command line; return the exit status.

    `then_exit`: the process ends right after (run()), so nothing needs collecting.
    """
    parser = make_parser()
    args = parser.parse_args(argv)
    if then_exit and args.handler is not _serve:
        # build() turns the cycle collector back on as it returns, and it would then walk
        # every object of the site once more (a tenth of a one-edit rebuild at 10,000
        # practices) just before the process ends. The preview runs for hours: not there.
        gc.disable()
    logging.basicConfig(level=logging.WARNING, format="%(levelname)s: %(message)s")
    # --debug is about s3site's own steps, not the libraries' chatter.
    logging.getLogger("s3site").setLevel(logging.DEBUG if args.debug else logging.WARNING)
    try:
        return args.handler(args)
    except SiteError as exc:
        for diagnostic in exc.diagnostics:
            print(diagnostic, file=sys.stderr)
        errors = len(exc.errors)
        print(f"Stopped: {errors} error{'s' if errors != 1 else ''}; nothing was written.",
              file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        return 130
    except Exception as exc:  # a bug in s3site, not in the user's files
        if args.debug:
            raise
        print(f"s3site: internal error: {type(exc).__name__}: {exc} "
              "(run again with --debug for the traceback, and please report it)", file=sys.stderr)
        return 2


def run() -> None:
    status = main(then_exit=True)
    # A build leaves hundreds of thousands of objects behind; freeing them
    # one by one at exit took a tenth of a one-edit rebuild at 10,000
    # practices. The operating system frees them at once.
    try:
        sys.stdout.flush()
        sys.stderr.flush()
    except (BrokenPipeError, ValueError):  # a closed pipe: nothing more to say
        pass
    os._exit(status)
