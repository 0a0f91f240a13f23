"""Work split across processes, for parsing and rendering.

Workers are forked, so they inherit the loaded site, the templates and the
open staging folder as they are; only small arguments (lists of indices or
paths) and small results cross between processes. Output does not depend on
how the work is split: each file is made by one pure function of the site.
"""

from __future__ import annotations

import contextlib
import gc
import os
import pickle
import signal
from collections.abc import Callable, Hashable, Iterator, Sequence
from typing import Any, NoReturn, TypeVar

T = TypeVar("T")

# Below this many items, starting processes costs more than it saves.
MIN_ITEMS_FOR_WORKERS = 64

_task: Callable[[Sequence[Any]], Any] | None = None


def default_workers() -> int:
    """Workers to use: S3SITE_WORKERS, else one per core this process may use."""
    configured = os.environ.get("S3SITE_WORKERS", "")
    if configured.isdigit() and int(configured) > 0:
        return int(configured)
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except AttributeError:  # not on Linux
        return max(1, os.cpu_count() or 1)


@contextlib.contextmanager
def cycle_collector(*, enabled: bool) -> Iterator[None]:
    """Python's cycle collector on or off for a while, then as it was.

    Also a decorator. Workers are forked, so they start with the parent's setting.
    """
    was_enabled = gc.isenabled()
    gc.enable() if enabled else gc.disable()
    try:
        yield
    finally:
        gc.enable() if was_enabled else gc.disable()


@contextlib.contextmanager
def _forking() -> Iterator[None]:
    """Fork inside this: a worker is then ended by SIGTERM however soon it is sent.

    A worker inherits its parent's signal handlers, and the preview's
    SIGTERM handler is Python code: a SIGTERM that reaches a worker before
    it has first run (the pool ending as the work was done by the other
    worker) is forgotten by Python's start-up after fork, and the worker
    waits for work forever, the pool for the worker. So SIGTERM is held
    back while forking, and each worker lets it in once it is the default
    again (_as_worker()): one sent early is then waiting, not lost.
    """
    held = signal.pthread_sigmask(signal.SIG_BLOCK, {signal.SIGTERM})
    try:
        yield
    finally:
        signal.pthread_sigmask(signal.SIG_SETMASK, held)


def _as_worker() -> None:
    """In a process forked inside _forking(): SIGTERM ends it, as it would a new process."""
    signal.signal(signal.SIGTERM, signal.SIG_DFL)
    signal.pthread_sigmask(signal.SIG_UNBLOCK, {signal.SIGTERM})


def _run(chunk: Sequence[Any]) -> Any:
    assert _task is not None
    return _task(chunk)


def map_chunks(
    task: Callable[[Sequence[T]], Any], items: Sequence[T], *, workers: int, force: bool = False,
    max_items: int | None = None, per_worker: int = 4, together: Callable[[T], Hashable] | None = None,
) -> list[Any]:
    """Run task over interleaved chunks of items (`per_worker` chunks a worker, or more, of at
    most `max_items` items); return one result per chunk. Items for which `together` gives
    the same key fall in the same chunk, however many they are.

    With one worker, or few items (or one key for all), everything runs here in one chunk.
    """
    return list(iter_chunks(task, items, workers=workers, force=force, max_items=max_items,
                            per_worker=per_worker, together=together))


def iter_chunks(
    task: Callable[[Sequence[T]], Any], items: Sequence[T], *, workers: int, force: bool = False,
    max_items: int | None = None, per_worker: int = 4, together: Callable[[T], Hashable] | None = None,
) -> Iterator[Any]:
    """As map_chunks, giving each chunk's result as soon as it and those before it are done.

    The caller can then let go of one result before the next comes, instead
    of holding all of them at once (all the parsed practices, encoded). For
    large results, `max_items` keeps each small: a result is held whole, twice
    (sent and received), and the last ones are still being handled here when
    the workers are done (at 100,000 practices, eight chunks were 130 MB each).
    """
    global _task
    units = _units(items, together)
    if workers <= 1 or len(units) <= 1 or (len(items) < MIN_ITEMS_FOR_WORKERS and not force):
        yield task(items)
        return
    # Interleaved chunks even out cheap and costly items (long practices,
    # big index pages) between workers; several per worker balance the rest.
    count = min(len(units), max(workers * per_worker, -(-len(items) // max_items) if max_items else 0))
    chunks = [[item for unit in units[i::count] for item in unit] for i in range(count)]
    _task = task
    # Imported here: a rebuild after an edit has too little to share out, and multiprocessing
    # costs as much to import (6 ms) as making a dozen pages.
    import multiprocessing

    try:
        context = multiprocessing.get_context("fork")
        with _forking():  # the pool forks its workers as it starts
            pool = context.Pool(workers, initializer=_as_worker)
        with pool:
            yield from pool.imap(_run, chunks, chunksize=1)
    finally:
        _task = None


def _units(items: Sequence[T], together: Callable[[T], Hashable] | None) -> list[list[T]]:
    """Items grouped by the key `together` gives them, in the order each key first comes."""
    if together is None:
        return [[item] for item in items]
    units: dict[Hashable, list[T]] = {}
    for item in items:
        units.setdefault(together(item), []).append(item)
    return list(units.values())


def in_two_processes(task: Callable[[Sequence[T]], list[Any]], items: Sequence[T]) -> list[Any]:
    """task(items), its second half done in one forked process while this one does the first.

    For work too short for a pool of workers (a few tenths of a second):
    one bare fork and a pipe cost a few milliseconds. Should the other
    process fail, its half is done here, so the result never depends on it.
    """
    half = len(items) // 2
    readable, writable = os.pipe()
    try:
        with _forking():
            pid = os.fork()
            if pid == 0:  # never leaving _forking() here: a SIGTERM sent already would reach the parent's handler
                _second_half(task, items[half:], readable, writable)
    except OSError:  # no process to spare (a limit, memory): all of it here
        os.close(readable)
        os.close(writable)
        return task(items)
    os.close(writable)
    first = task(items[:half])
    with os.fdopen(readable, "rb") as pipe:
        data = pipe.read()
    _, status = os.waitpid(pid, 0)
    second = pickle.loads(data) if status == 0 and data else None
    if not isinstance(second, list) or len(second) != len(items) - half:
        second = task(items[half:])
    return first + second


def _second_half(task: Callable[[Sequence[T]], list[Any]], items: Sequence[T], readable: int,
                 writable: int) -> NoReturn:
    """In the process in_two_processes() forked: its half, down the pipe, and gone, whatever
    happens (a SIGTERM or a Ctrl-C as it starts included), never going on as the parent."""
    status = 1
    try:
        _as_worker()
        os.close(readable)
        with os.fdopen(writable, "wb") as pipe:
            pipe.write(pickle.dumps(task(items), protocol=pickle.HIGHEST_PROTOCOL))
        status = 0
    finally:
        os._exit(status)  # never the parent's clean-up (atexit, open files, test runners)
