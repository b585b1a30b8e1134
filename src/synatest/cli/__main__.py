"""``python -m synatest.cli``: the ``synatest`` command."""

import sys

from synatest.cli.main import main

sys.exit(main())
