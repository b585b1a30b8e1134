"""`python -m synatest`: the synatest command."""

import sys

from synatest.cli import main

sys.exit(main())
