"""`python -m flows.cli`: the `bluelight` command."""

import sys

from flows.cli import main

sys.exit(main())
