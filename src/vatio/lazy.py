"""Lazy package attributes: a package names its public objects, modules load on first use.

Why: ``import vatio`` (or ``vatio.ledger``) runs inside training scripts and
inside ``vatio run``'s start-up path, so a package ``__init__`` must not pull
in numpy, cryptography or pydantic just to export names. Stdlib only.
"""

from __future__ import annotations

import importlib
import sys

TYPE_CHECKING = False  # not typing's: importing typing costs `vatio run`'s client ~10 ms
if TYPE_CHECKING:
    from collections.abc import Callable, Mapping
    from typing import Any


def lazy_attributes(package: str, names: Mapping[str, str]) -> Callable[[str], Any]:
    """A module ``__getattr__`` that imports ``names[attr]`` on first access, then caches it."""

    def __getattr__(name: str) -> Any:
        module_name = names.get(name)
        if module_name is None:
            raise AttributeError(f"module {package!r} has no attribute {name!r}")
        value = getattr(importlib.import_module(module_name), name)
        setattr(sys.modules[package], name, value)
        return value

    return __getattr__
