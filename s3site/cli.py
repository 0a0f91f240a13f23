"""The s3site command: a thin layer that parses options and calls the build.

No build logic lives here. A SiteError becomes a list of messages and exit
status 1; any other exception is a bug in s3site, reported in one line
(with the traceback under --debug).
"""

from __future__ import annotations

import argparse
import logging
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
    check.set_defaults(handler=_check)

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
    return 0


def _serve(args: argparse.Namespace) -> int:
    from .server import serve

    return serve(args.root, host=args.host, port=args.port, open_browser=args.open,
                 drafts=args.drafts, strict=args.strict)


def _print_warnings(warnings: Sequence[object]) -> None:
    for warning in warnings:
        print(warning, file=sys.stderr)


def main(argv: Sequence[str] | None = None) -> int:
    """Run the s3site command line; return the exit status."""
    parser = make_parser()
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.DEBUG if args.debug else logging.WARNING,
                        format="%(levelname)s: %(message)s")
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
    sys.exit(main())
