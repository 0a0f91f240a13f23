"""Writing the site: into a second folder, swapped in only when complete.

The output folder belongs to s3site alone. A marker file says so; a folder
without it is never cleaned or replaced. A build brings a sibling "spare"
folder up to date and then exchanges it with the output folder in one
rename, so a failed or killed build leaves the published site exactly as it
was. The folder swapped out becomes the next build's spare: only the files
that changed since it was current are written again, so a small edit costs a
few file operations, not a copy of the whole site. Files whose bytes did not
change are hard links to the published ones, so they keep their modification
times and upload tools see no change.
"""

from __future__ import annotations

import contextlib
import errno
import filecmp
import functools
import os
import shutil
import threading
from collections.abc import Callable, Iterable, Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from queue import Queue

from .errors import SiteError, error

MARKER = ".s3site-output"
MARKER_TEXT = "This folder is written by s3site. Anything in it is replaced on every build.\n"
STAGING_SUFFIX = ".s3site-staging"  # a fresh folder, when there is no usable spare
SPARE_SUFFIX = ".s3site-spare"
RETIRED_SUFFIX = ".s3site-retired"
WRITES_IN_FLIGHT = 256  # files rendered but not yet written, at most (a few megabytes)
WRITES_HANDED_AT_ONCE = 16  # files handed to the writing thread together
# Threads that link unchanged files into a new folder (eight were no clear gain over four), from
# this many files on: an edit's few are linked quicker than threads start.
LINKING_THREADS = 4
MIN_LINKS_FOR_THREADS = 1000
UNKNOWN = ""  # the key of a spare's file whose key is lost: no output's key


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
    elif content in output.parents:
        reason = "it is inside the content folder"
    elif (root / "templates").resolve() in (output, *output.parents):
        reason = "it is inside the templates folder"
    elif output.exists() and not output.is_dir():
        reason = "it is a file, not a folder"
    elif output.is_dir() and any(output.iterdir()) and not (output / MARKER).is_file():
        reason = f"it is not empty and was not made by s3site (no {MARKER} file in it)"
    if reason:
        raise SiteError([error(str(output), f"refusing to write the site here: {reason}")])


def spare_folder(output: Path) -> Path:
    return output.parent / f".{output.name}{SPARE_SUFFIX}"


def build_id_of(folder: Path) -> str | None:
    """The build id recorded in a folder's marker: None if it is not a complete build."""
    try:
        text = (folder / MARKER).read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError):
        return None
    for line in text.splitlines():
        if line.startswith("build: "):
            return line.removeprefix("build: ").strip() or None
    return None


def _ours(folder: Path) -> bool:
    return (folder / MARKER).is_file()


def recover(output: Path) -> None:
    """Put back a site left aside by a build killed mid-swap, and clear leftovers."""
    parent = output.parent
    if not parent.is_dir():
        return
    retired = sorted(parent.glob(f"{output.name}{RETIRED_SUFFIX}-*"))
    if not output.exists() and retired and build_id_of(retired[-1]):
        retired[-1].rename(output)
        retired = retired[:-1]
    for leftover in retired + sorted(parent.glob(f"{output.name}{STAGING_SUFFIX}-*")):
        if _ours(leftover) or not any(leftover.iterdir()):
            shutil.rmtree(leftover, ignore_errors=True)
    spare = spare_folder(output)
    if spare.exists() and not build_id_of(spare):
        # A build was killed while updating it: its files cannot be trusted.
        shutil.rmtree(spare, ignore_errors=True)


class StagedOutput:
    """The folder a build writes into; it becomes the output folder on commit().

    `output_keys` and `spare_keys` are the keys (see fingerprint.py) of the
    files in the published folder and in the spare, from the build cache;
    a file whose key matches needs no rendering.
    """

    def __init__(
        self,
        output: Path,
        output_keys: dict[str, str] | None = None,
        spare_keys: dict[str, str] | None = None,
    ) -> None:
        self.output = output
        self.previous = output if _ours(output) else None
        self.output_keys = output_keys or {}
        spare = spare_folder(output)
        if spare_keys is not None and build_id_of(spare):
            self.staging = spare
            self.spare_keys = spare_keys
        elif build_id_of(spare):
            # A whole past build whose keys are lost (a new s3site, a deleted cache). Deleting it
            # first took seconds on a real disk; instead each of its files that is still the
            # published one (one inode, as an unchanged file is linked) takes the published
            # key, and any other is replaced when written, as every file of a spare is.
            self.staging = spare
            published = _inodes(output) if self.previous and self.output_keys else {}
            self.spare_keys = {
                relative: self.output_keys.get(relative, UNKNOWN) if published.get(relative) == inode else UNKNOWN
                for relative, inode in _inodes(spare).items() if relative != MARKER
            }
        else:
            if spare.exists():
                shutil.rmtree(spare)
            self.staging = output.parent / f"{output.name}{STAGING_SUFFIX}-{os.getpid()}"
            if self.staging.exists():
                shutil.rmtree(self.staging)
            self.staging.mkdir(parents=True)
            self.spare_keys = {}
        # From here on the folder is being changed: a marker without a build
        # id tells a later build not to trust it if this one is killed.
        (self.staging / MARKER).write_text(MARKER_TEXT, encoding="utf-8")
        self._root = str(self.staging)
        self._previous_root = str(self.previous) if self.previous else ""
        self._folders: set[str] = {""}
        self.unchanged = 0
        self.written = 0
        self.changed: list[str] = []  # paths whose bytes differ from the published output
        self._queue: Queue[list[tuple[str, bytes | Iterable[bytes]]] | None] | None = None
        self._batch: list[tuple[str, bytes | Iterable[bytes]]] = []
        self._failures: list[BaseException] = []

    def _folder_for(self, relative: str) -> None:
        folder = relative.rpartition("/")[0]
        if folder not in self._folders:
            parent = folder.rpartition("/")[0]
            if parent in self._folders:
                # One system call where makedirs() makes two (it looks for the parent first):
                # a cold build makes 14,000 folders at 10,000 practices.
                try:
                    os.mkdir(f"{self._root}/{folder}")
                except FileExistsError:
                    if not os.path.isdir(f"{self._root}/{folder}"):
                        raise
            else:
                os.makedirs(f"{self._root}/{folder}", exist_ok=True)
                while parent not in self._folders:  # made too, if they were missing
                    self._folders.add(parent)
                    parent = parent.rpartition("/")[0]
            self._folders.add(folder)

    def keep_all(self, files: Sequence[tuple[str, str]]) -> list[bool]:
        """For each (path, key): whether the file is kept, its key being unchanged: already
        here, or linked from the output. Kept files need no rendering."""
        kept = [self.spare_keys.get(relative) == key for relative, key in files]
        to_link = [relative for (relative, key), here in zip(files, kept, strict=True)
                   if not here and self._previous_root and self.output_keys.get(relative) == key]
        if len(to_link) < MIN_LINKS_FOR_THREADS:
            linked = set(filter(self._link_from_output, to_link))
        else:
            # The first build after a cold one links every file of the site (24,000 at 10,000
            # practices) into a new folder: the system calls of a few threads overlap.
            part = -(-len(to_link) // LINKING_THREADS)
            with ThreadPoolExecutor(LINKING_THREADS, thread_name_prefix="s3site-link") as pool:
                parts = pool.map(lambda start: list(filter(self._link_from_output, to_link[start:start + part])),
                                 range(0, len(to_link), part))
                linked = {relative for done in parts for relative in done}
        kept = [here or relative in linked for (relative, _), here in zip(files, kept, strict=True)]
        self.unchanged += sum(kept)
        return kept

    def _link_from_output(self, relative: str) -> bool:
        """The published file, linked into this folder (safe in several threads at once)."""
        self._folder_for(relative)
        target = f"{self._root}/{relative}"
        try:
            if relative in self.spare_keys:
                os.unlink(target)
            os.link(f"{self._previous_root}/{relative}", target)
        except OSError:
            return False
        return True

    def read(self, relative: str) -> bytes | None:
        """A file already made by this build (written, kept or linked)."""
        try:
            with open(f"{self._root}/{relative}", "rb") as handle:
                return handle.read()
        except OSError:
            return None

    @contextlib.contextmanager
    def writing_behind(self) -> Iterator[None]:
        """Files handed to write() are written by a thread while the caller renders the next.

        Making a folder or a file waits on the disk, not on the processor: on
        a busy or slow disk a worker would otherwise sit idle in mkdir() and
        open() for much of a build. Every write is done when this ends; the
        first error is raised then, or by the next write() after it.
        """
        queue: Queue[list[tuple[str, bytes | Iterable[bytes]]] | None] = Queue(
            maxsize=WRITES_IN_FLIGHT // WRITES_HANDED_AT_ONCE)
        failures = self._failures = []

        def write_queued() -> None:
            while (batch := queue.get()) is not None:
                for item in batch:
                    if not failures:  # after a failure, only empty the queue: the build is over
                        try:
                            self._write(*item)
                        except BaseException as exc:  # noqa: BLE001 - raised in the caller's thread
                            failures.append(exc)

        writer = threading.Thread(target=write_queued, name="s3site-writer", daemon=True)
        writer.start()
        self._queue = queue
        self._batch = []
        try:
            yield
        finally:
            self._queue = None
            if self._batch:
                queue.put(self._batch)
            queue.put(None)
            writer.join()
        if failures:
            raise failures[0]

    def write(self, relative: str, data: bytes | Iterable[bytes]) -> None:
        """Write one file; link the published one instead when its bytes are the same.

        `data` may come in chunks (a large data file), so that it is never
        all in memory at once. Inside writing_behind() the file is written later, by a thread.
        """
        if self._queue is None:
            self._write(relative, data)
        elif self._failures:
            raise self._failures[0]  # no more rendering for a build that has failed
        else:
            # Handed over a few at a time: each hand-over costs the two threads a switch.
            self._batch.append((relative, data))
            if len(self._batch) == WRITES_HANDED_AT_ONCE:
                self._queue.put(self._batch)  # waits while the queue is full
                self._batch = []

    def count_elsewhere(self, done: Iterable[tuple[int, int, list[str]]]) -> None:
        """Add what other processes wrote into this staging folder: (written, unchanged,
        changed paths) each."""
        done = list(done)
        self.written += sum(written for written, _, _ in done)
        self.unchanged += sum(unchanged for _, unchanged, _ in done)
        self.changed = sorted([*self.changed, *(path for _, _, changed in done for path in changed)])

    def _count(self, relative: str | None) -> None:
        if relative is None:
            self.unchanged += 1
        else:
            self.written += 1
            self.changed.append(relative)

    def _write(self, relative: str, data: bytes | Iterable[bytes]) -> None:
        self._folder_for(relative)
        target = f"{self._root}/{relative}"
        if relative in self.spare_keys:
            # Never write into the old file: it may be the published file's inode.
            try:
                os.unlink(target)
            except FileNotFoundError:
                pass
        if not isinstance(data, bytes):
            self._write_chunks(relative, target, data)
            return
        if self._previous_root:
            old = f"{self._previous_root}/{relative}"
            try:
                if os.stat(old).st_size == len(data):
                    with open(old, "rb") as handle:
                        same = handle.read() == data
                    if same:
                        os.link(old, target)
                        self._count(None)
                        return
            except OSError:
                pass
        _write_file(target, data)
        self._count(relative)

    def _write_chunks(self, relative: str, target: str, chunks: Iterable[bytes]) -> None:
        with open(target, "wb") as handle:
            for chunk in chunks:
                handle.write(chunk)
        if self._previous_root:
            old = f"{self._previous_root}/{relative}"
            try:
                if os.stat(old).st_size == os.stat(target).st_size and filecmp.cmp(old, target, shallow=False):
                    os.unlink(target)
                    os.link(old, target)
                    self._count(None)
                    return
            except OSError:
                pass
        self._count(relative)

    def remove_stale(self, planned: Iterable[str]) -> None:
        """Delete files of the spare that this build no longer has, and emptied folders."""
        wanted = set(planned)
        folders = set()
        for relative in self.spare_keys:
            if relative not in wanted:
                try:
                    os.unlink(f"{self._root}/{relative}")
                except FileNotFoundError:
                    pass
                folders.add(relative.rpartition("/")[0])
        # Deepest first, so that a folder emptied by removing its child goes too.
        for folder in sorted(folders, key=lambda f: f.count("/"), reverse=True):
            while folder:
                try:
                    os.rmdir(f"{self._root}/{folder}")
                except OSError:
                    break
                folder = folder.rpartition("/")[0]

    def commit(self, build_id: str) -> None:
        """Make the staging folder the output folder; keep the old one as the spare."""
        (self.staging / MARKER).write_text(f"{MARKER_TEXT}build: {build_id}\n", encoding="utf-8")
        spare = spare_folder(self.output)
        if not self.output.exists():
            self.staging.rename(self.output)
            return
        if _exchange(self.staging, self.output):
            if self.staging != spare:
                if spare.exists():
                    shutil.rmtree(spare)
                self.staging.rename(spare)
            return
        # No atomic exchange here (another OS or file system): two renames,
        # with recover() putting the old site back if killed in between.
        retired = self.output.parent / f"{self.output.name}{RETIRED_SUFFIX}-{os.getpid()}"
        self.output.rename(retired)
        self.staging.rename(self.output)
        if spare.exists():
            shutil.rmtree(spare)
        retired.rename(spare)

    def abort(self) -> None:
        """Give up this build; the output folder is untouched."""
        if self.staging.name.startswith(f".{self.output.name}{SPARE_SUFFIX}"):
            # The spare is half-updated: without a build id it is not trusted again.
            return
        shutil.rmtree(self.staging, ignore_errors=True)


def _inodes(folder: Path) -> dict[str, int]:
    """Every file in a folder and its subfolders, by relative path, with its inode number
    (read with the listing: no system call a file)."""
    found: dict[str, int] = {}

    def walk(path: str, relative: str) -> None:
        with os.scandir(path) as listing:
            for entry in listing:
                name = f"{relative}{entry.name}"
                if entry.is_dir(follow_symlinks=False):
                    walk(entry.path, name + "/")
                else:
                    found[name] = entry.inode()

    walk(str(folder), "")
    return found


def _exchange(a: Path, b: Path) -> bool:
    """Swap two folders atomically with Linux's renameat2(RENAME_EXCHANGE)."""
    renameat2 = _renameat2()
    if renameat2 is None:
        return False
    at_fdcwd, rename_exchange = -100, 2
    result = renameat2(at_fdcwd, os.fsencode(a), at_fdcwd, os.fsencode(b), rename_exchange)
    if result == 0:
        return True
    import ctypes  # loaded already, by _renameat2()

    if ctypes.get_errno() in (errno.ENOSYS, errno.EINVAL, errno.ENOTSUP, errno.EXDEV):
        return False
    raise OSError(ctypes.get_errno(), os.strerror(ctypes.get_errno()), str(b))


@functools.cache
def _renameat2() -> Callable[..., int] | None:
    """The C library's renameat2(), if it has one."""
    # Imported here: most builds swap folders once, and ctypes costs three milliseconds.
    import ctypes
    import ctypes.util

    # The symbols the process has loaded (the C library among them) first: finding the
    # library by name runs ldconfig as a child process.
    with contextlib.suppress(OSError, AttributeError):
        return ctypes.CDLL(None, use_errno=True).renameat2  # type: ignore[no-any-return]
    name = ctypes.util.find_library("c")
    if name is not None:
        with contextlib.suppress(OSError, AttributeError):
            return ctypes.CDLL(name, use_errno=True).renameat2  # type: ignore[no-any-return]
    return None


# What open() adds to a file's own system calls (a size check, a terminal check, a seek)
# is a sixth of making a small file: a cold build makes 24,000 of them at 10,000 practices.
CREATE_FLAGS = os.O_WRONLY | os.O_CREAT | os.O_TRUNC | getattr(os, "O_CLOEXEC", 0) | getattr(os, "O_BINARY", 0)


def _write_file(path: str, data: bytes) -> None:
    descriptor = os.open(path, CREATE_FLAGS, 0o666)
    try:
        view = memoryview(data)
        while view:  # a write may take only part of the bytes (a signal, a full disk)
            view = view[os.write(descriptor, view):]
    finally:
        os.close(descriptor)
