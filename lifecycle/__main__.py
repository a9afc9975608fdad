"""`python -m lifecycle`: the command line, as the `lifecycle` script."""

import sys

from .cli import main

sys.exit(main())
