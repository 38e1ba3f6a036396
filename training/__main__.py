"""``python -m training METHOD [--stage STAGE] --data ROOT --layout LAYOUT --out DIR ...`` (see ``--help``)."""

import sys

from .engine import main

if __name__ == "__main__":
    sys.exit(main())
