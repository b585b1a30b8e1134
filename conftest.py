"""Repository-wide pytest configuration (synatest's own tests and the examples).

Hypothesis profiles: ``ci`` (derandomized, more examples, no deadline: CI machines
are shared and slow) is loaded automatically when ``CI`` is set; ``dev`` otherwise.
Pick one explicitly with ``--hypothesis-profile``.
"""

from __future__ import annotations

import os

from hypothesis import settings

settings.register_profile("ci", max_examples=60, deadline=None, derandomize=True, print_blob=True)
settings.register_profile("dev", max_examples=30, deadline=None)
settings.load_profile("ci" if os.environ.get("CI") else "dev")
