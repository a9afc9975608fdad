"""`python -m lifecycle`: the command line, as the `lifecycle` script."""

import sys

from .bootstrap import main

sys.exit(main())
