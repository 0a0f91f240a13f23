"""Build the repository's example site (content/) into output/: same as `s3site build`."""

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))

from s3site.cli import main  # noqa: E402

if __name__ == "__main__":
    sys.exit(main(["build", "--root", str(Path(__file__).parent), *sys.argv[1:]]))
