"""Writing the site: into a fresh folder, swapped in only when complete.

The output folder belongs to s3site alone. A marker file says so; a folder
without it is never cleaned or replaced. A build writes into a sibling
staging folder and exchanges it with the output folder at the very end, so a
failed or killed build leaves the previous site exactly as it was. Files
whose bytes did not change are hard-linked from the previous output, so they
keep their modification times and upload tools see no change.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import errno
import os
import shutil
from pathlib import Path

from .errors import SiteError, error

MARKER = ".s3site-output"
MARKER_TEXT = "This folder is written by s3site. Anything in it is replaced on every build.\n"
STAGING_SUFFIX = ".s3site-staging"
RETIRED_SUFFIX = ".s3site-retired"


def check_output_folder(output: Path, *, site_root: Path) -> None:
    """Refuse an output folder that is not ours to replace."""
    output = output.resolve()
    root = site_root.resolve()
    content = (root / "content").resolve()
    forbidden = {Path("/"), Path.home().resolve(), root, content}
    reason = ""
    if output in forbidden:
        reason = "it is the site root, the content folder, the home folder or /"
    elif output in root.parents or output in content.parents:
        reason = "it contains the site itself"
    elif content in output.parents or output == content:
        reason = "it is inside the content folder"
    elif output.exists() and not output.is_dir():
        reason = "it is a file, not a folder"
    elif output.is_dir() and any(output.iterdir()) and not (output / MARKER).is_file():
        reason = f"it is not empty and was not made by s3site (no {MARKER} file in it)"
    if reason:
        raise SiteError([error(str(output), f"refusing to write the site here: {reason}")])


def recover(output: Path) -> None:
    """Put back a site left aside by a build killed mid-swap, and clear leftovers."""
    parent = output.parent
    if not parent.is_dir():
        return
    retired = sorted(parent.glob(f"{output.name}{RETIRED_SUFFIX}-*"))
    if not output.exists() and retired and (retired[-1] / MARKER).is_file():
        retired[-1].rename(output)
        retired = retired[:-1]
    for leftover in retired + sorted(parent.glob(f"{output.name}{STAGING_SUFFIX}-*")):
        if (leftover / MARKER).is_file() or not any(leftover.iterdir()):
            shutil.rmtree(leftover, ignore_errors=True)


class StagedOutput:
    """A staging folder that becomes the output folder on commit()."""

    def __init__(self, output: Path) -> None:
        self.output = output
        self.previous = output if (output / MARKER).is_file() else None
        self.staging = output.parent / f"{output.name}{STAGING_SUFFIX}-{os.getpid()}"
        if self.staging.exists():
            shutil.rmtree(self.staging)
        self.staging.mkdir(parents=True)
        (self.staging / MARKER).write_text(MARKER_TEXT, encoding="utf-8")
        self.unchanged = 0
        self.written = 0
        self.changed: list[str] = []  # paths whose bytes differ from the previous output

    def write(self, relative: str, data: bytes) -> None:
        """Write one file; reuse the previous one when its bytes are the same."""
        target = self.staging / relative
        target.parent.mkdir(parents=True, exist_ok=True)
        if self.previous is not None:
            old = self.previous / relative
            try:
                if old.stat().st_size == len(data) and old.read_bytes() == data:
                    os.link(old, target)
                    self.unchanged += 1
                    return
            except OSError:
                pass
        with open(target, "wb") as handle:
            handle.write(data)
        self.written += 1
        self.changed.append(relative)

    def copy(self, relative: str, source: Path) -> None:
        """Copy a static file, keeping the previous copy when it is the same."""
        self.write(relative, source.read_bytes())

    def commit(self) -> None:
        """Make the staging folder the output folder, in one step where the OS allows."""
        if self.output.exists():
            if _exchange(self.staging, self.output):
                shutil.rmtree(self.staging)
                return
            retired = self.output.parent / f"{self.output.name}{RETIRED_SUFFIX}-{os.getpid()}"
            self.output.rename(retired)
            self.staging.rename(self.output)
            shutil.rmtree(retired)
        else:
            self.staging.rename(self.output)

    def abort(self) -> None:
        """Drop the staging folder; the output folder is untouched."""
        shutil.rmtree(self.staging, ignore_errors=True)


def _exchange(a: Path, b: Path) -> bool:
    """Swap two folders atomically with Linux's renameat2(RENAME_EXCHANGE)."""
    libc_name = ctypes.util.find_library("c")
    if not libc_name:
        return False
    try:
        libc = ctypes.CDLL(libc_name, use_errno=True)
        renameat2 = libc.renameat2
    except (OSError, AttributeError):
        return False
    at_fdcwd, rename_exchange = -100, 2
    result = renameat2(at_fdcwd, os.fsencode(a), at_fdcwd, os.fsencode(b), rename_exchange)
    if result == 0:
        return True
    if ctypes.get_errno() in (errno.ENOSYS, errno.EINVAL, errno.ENOTSUP):
        return False
    raise OSError(ctypes.get_errno(), os.strerror(ctypes.get_errno()), str(b))
