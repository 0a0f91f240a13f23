"""Run one command and report its time, exit status, CPU time and peak memory: for run.py.

    python -S launch.py REPORT -- COMMAND [ARGS...]

REPORT receives one JSON object: seconds, status, max_rss_kb, cpu_seconds.

Why a process in between: Linux keeps a process's peak resident memory across
exec, and a process started by fork or vfork begins with its parent's. A build
started by run.py itself would be charged run.py's own peak, which at
N = 100,000 (having generated the corpus) is some 600 MB. Started from here, a
build is charged at most this process's few megabytes. Only the standard
library, and little of it, so that this process stays small and starts fast.
"""

from __future__ import annotations

import json
import os
import sys
import time


def main(argv: list[str]) -> int:
    if len(argv) < 3 or argv[1] != "--":
        print("usage: launch.py REPORT -- COMMAND [ARGS...]", file=sys.stderr)
        return 2
    report, command = argv[0], argv[2:]
    started = time.perf_counter()
    try:
        pid = os.posix_spawnp(command[0], command, os.environ)
    except OSError as error:
        print(f"launch.py: cannot run {command[0]}: {error}", file=sys.stderr)
        return 127
    _, wait_status, usage = os.wait4(pid, 0)
    seconds = time.perf_counter() - started
    status = os.waitstatus_to_exitcode(wait_status)
    with open(report, "w", encoding="utf-8") as handle:
        json.dump({"seconds": seconds, "status": status, "max_rss_kb": usage.ru_maxrss,
                   "cpu_seconds": usage.ru_utime + usage.ru_stime}, handle)
    return status if status >= 0 else 128 - status


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
