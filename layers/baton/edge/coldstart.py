"""Cold start: what a function does before its first answer, kept to what that answer needs.

Two measures, both started by `prepare()`, which the functions' package runs when it is imported
(`baton_functions/__init__`: Lambda imports it before the function module it names, so before
Powertools), and ended by `resume()` after the function's first answer:

- The garbage collector waits until the first request is answered. Initialising a function
  (botocore's service model, pydantic's validators, the routes) builds hundreds of thousands of
  objects and no garbage worth collecting; with the collector on, it walks them again and again
  while they are built (about 10% of a cold start here). `resume()` then freezes what
  initialisation built (`gc.freeze`), so the warm path's collections skip it as well.
- Re-exporting packages are not executed: `aws_lambda_powertools.event_handler/__init__` imports
  every resolver Powertools has (AppSync pulls in asyncio, Bedrock, VPC Lattice...) and
  `utilities.data_classes/__init__` every event class, where Baton needs one resolver and the
  classes it uses (about 35 ms). `lean_package` registers such a package without running its
  `__init__`: its submodules import as usual, and a name asked of the package itself is taken
  from the submodule that `__init__` re-exports it from. A name `__init__` defines itself runs
  the real `__init__` then, so nothing is lost, only deferred.
"""

from __future__ import annotations

import ast
import gc
import importlib
import importlib.util
import sys
import threading
import types
from typing import Any

_lock = threading.Lock()
_paused = False
LEAN_PACKAGES = ("aws_lambda_powertools.event_handler", "aws_lambda_powertools.utilities.data_classes")


def prepare() -> None:
    """Start the cold-start measures: pause the collector and register the lean packages."""
    pause()
    for package in LEAN_PACKAGES:
        lean_package(package)


def pause() -> None:
    global _paused
    with _lock:
        if gc.isenabled():
            gc.disable()
            _paused = True


def resume() -> None:
    global _paused
    if not _paused:
        return
    with _lock:
        if _paused:
            gc.freeze()
            gc.enable()
            _paused = False


def reexports(package: str, source: str) -> dict[str, tuple[str, str]]:
    """Names that a package's `__init__` source imports from its own submodules:
    name -> (submodule, name there)."""
    found: dict[str, tuple[str, str]] = {}
    for node in ast.parse(source).body:
        if not isinstance(node, ast.ImportFrom) or not node.module or node.level > 1:
            continue
        module = f"{package}.{node.module}" if node.level == 1 else node.module
        if module.startswith(package + "."):
            for alias in node.names:
                found[alias.asname or alias.name] = (module, alias.name)
    return found


def lean_package(name: str) -> types.ModuleType:
    """Register package `name` without executing its `__init__` (see the module docstring)."""
    if name in sys.modules:
        return sys.modules[name]
    spec = importlib.util.find_spec(name)
    if spec is None or spec.loader is None or spec.origin is None:
        raise ImportError(name)
    loader = spec.loader
    module = importlib.util.module_from_spec(spec)
    with open(spec.origin, encoding="utf-8") as f:
        exports = reexports(name, f.read())

    def __getattr__(attr: str) -> Any:
        if attr in exports:
            source, real = exports[attr]
            value = getattr(importlib.import_module(source), real)
            setattr(module, attr, value)
            return value
        if (attr.startswith("__") and attr != "__all__") or importlib.util.find_spec(f"{name}.{attr}") is not None:
            raise AttributeError(attr)  # a submodule (the import system loads it) or a probe
        del module.__getattr__
        loader.exec_module(module)  # a name of the package's own: run the real __init__
        return getattr(module, attr)

    module.__getattr__ = __getattr__  # type: ignore[method-assign]
    sys.modules[name] = module
    parent, _, child = name.rpartition(".")
    setattr(importlib.import_module(parent), child, module)
    return module
