"""How long `s3site serve` takes from saving a practice to serving its new page.

Usage: python benchmarks/preview.py SITE_ROOT [PORT]

Starts the preview on SITE_ROOT (a corpus made by generate.py, for instance
benchmarks/work/corpus-n10000-s42/s3site), waits for its first build, then
seven times: appends a sentence to a practice, waits on the preview's own
/__s3site__/wait endpoint as the practice's open page does, and fetches the
page again, checking that it shows the sentence; then waits for the rebuild
of the whole site to be served too. Prints both times for each edit and
their medians over all but the first. The files it edits are left with the
added sentences: run it on a copy.
"""

from __future__ import annotations

import json
import shutil
import statistics
import subprocess
import sys
import time
import urllib.request
from pathlib import Path


def main() -> int:
    root = Path(sys.argv[1]).resolve()
    port = int(sys.argv[2]) if len(sys.argv) > 2 else 8765
    s3site = shutil.which("s3site") or "s3site"
    process = subprocess.Popen([s3site, "serve", "--root", str(root), "--port", str(port)],
                               stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    base = f"http://127.0.0.1:{port}"

    def get(path: str) -> bytes:
        with urllib.request.urlopen(base + path, timeout=60) as response:
            return response.read()

    try:
        deadline = time.monotonic() + 900
        while True:
            try:
                if json.loads(get("/__s3site__/status")).get("ok"):
                    break
            except OSError:
                pass
            if time.monotonic() > deadline:
                print("the preview did not build within 15 minutes", file=sys.stderr)
                return 1
            time.sleep(0.5)
        practices = sorted((root / "content" / "practices").glob("*.md"))
        token = f"{time.time():.0f}"  # the sentences of an earlier run do not count
        times, whole = [], []
        for rep in range(7):
            target = practices[len(practices) // 3 + rep]
            url = f"/practices/{target.stem}/"
            builds = json.loads(get("/__s3site__/status"))["builds"]
            time.sleep(1.0)  # a save some time after the last, as when typing
            state = json.loads(get("/__s3site__/status"))
            sentence = f"Preview edit {rep}, run {token}."
            saved = time.perf_counter()
            with target.open("a", encoding="utf-8") as handle:
                handle.write(f"\n{sentence}\n")
            while True:  # as the page's own script: until the answer says this page changed
                state = json.loads(get(f"/__s3site__/wait?server={state['server']}&generation="
                                       f"{state['generation']}&page={url}&timeout=20"))
                if state["reload"]:
                    break
            page = get(url)
            times.append(time.perf_counter() - saved)
            shown = sentence.encode() in page
            while json.loads(get("/__s3site__/status"))["builds"] <= builds:
                time.sleep(0.005)
            whole.append(time.perf_counter() - saved)
            print(f"edit {rep + 1}: page {times[-1]:.3f} s, whole site {whole[-1]:.3f} s"
                  f"{'' if shown else ' (the page does not show it!)'}")
        print(f"median of edits 2 to 7: page {statistics.median(times[1:]):.3f} s, "
              f"whole site {statistics.median(whole[1:]):.3f} s")
        return 0
    finally:
        process.terminate()
        process.wait(10)


if __name__ == "__main__":
    sys.exit(main())
