"""`python -m jobmatch`: the same as the `jobmatch` command."""

import sys

from jobmatch import main

sys.exit(main())
