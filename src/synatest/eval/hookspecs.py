"""Hooks that synatest's eval mode offers to other plugins (and conftest files)."""

from __future__ import annotations

from typing import TYPE_CHECKING

import pytest

if TYPE_CHECKING:
    from synatest.eval.results import RunReport


@pytest.hookspec(historic=False)
def pytest_synalinks_eval_report(config: pytest.Config, report: RunReport) -> None:
    """Called once at the end of a ``--synalinks-eval`` session with the run's report.

    On the xdist controller only, after the workers' results are merged and every
    gate has run (``report.passed``). Write extra report formats here, e.g.::

        def pytest_synalinks_eval_report(config, report):
            (config.rootpath / "scores.txt").write_text(
                "\\n".join(f"{s.name} {s.mean}" for s in report.suites)
            )
    """
