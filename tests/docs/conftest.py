"""The docs samples run in-process through ``pytester``, which drops the modules first
imported during an inner run when it ends. A name cached by ``synatest``'s lazy
``__getattr__`` (e.g. ``synatest.tool_call``) would then outlive its module, and the
next sample would get a second copy of its classes (``ToolCall`` no longer an instance
of ``ToolCall``). Importing every synatest module once, here, keeps one copy of each."""

from __future__ import annotations

import importlib
import pkgutil

import synatest

for _module in pkgutil.walk_packages(synatest.__path__, "synatest."):
    if _module.name.endswith("__main__"):
        continue
    importlib.import_module(_module.name)
