"""How long `s3site serve` takes from saving a practice to serving its new page.

Usage: python benchmarks/preview.py SITE_ROOT [PORT]

Starts the preview on SITE_ROOT (a corpus made by generate.py, for instance
benchmarks/work/corpus-n10000-s42/s3site), waits for its first build, then
seven times: appends a sentence to a practice, waits on the preview's own
/__s3site__/wait endpoint (what an open page does) and fetches the page
again, checking that it shows the sentence. Prints each time and the median
of all but the first. The files it edits are left with the added sentences:
run it on a copy.
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
        times = []
        for rep in range(7):
            state = json.loads(get("/__s3site__/wait?generation=-1&timeout=0"))
            target = practices[len(practices) // 3 + rep]
            time.sleep(1.0)  # a save some time after the last, as when typing
            saved = time.perf_counter()
            with target.open("a", encoding="utf-8") as handle:
                handle.write(f"\nPreview edit {rep}.\n")
            get(f"/__s3site__/wait?server={state['server']}&generation={state['generation']}&timeout=20")
            page = get(f"/practices/{target.stem}/")
            times.append(time.perf_counter() - saved)
            shown = f"Preview edit {rep}.".encode() in page
            print(f"edit {rep + 1}: {times[-1]:.3f} s{'' if shown else ' (the page does not show it!)'}")
        print(f"median of edits 2 to 7: {statistics.median(times[1:]):.3f} s")
        return 0
    finally:
        process.terminate()
        process.wait(10)


if __name__ == "__main__":
    sys.exit(main())
