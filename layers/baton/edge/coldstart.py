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

Under Lambda SnapStart (`-c snapStart=true`; the runtime says so in
`AWS_LAMBDA_INITIALIZATION_TYPE=snap-start`), `prepare()` also registers the runtime's hooks
(`snapshot_restore_py`, in the Lambda Python runtime; nothing is imported elsewhere):

- before the snapshot, `before_snapshot()` primes what a first request would otherwise build in
  every restored environment: whatever `baton.snapshot` holds (the DynamoDB client, the
  resolver with one probe request through it, see `baton.edge.entry`), then the collector
  freezes all of it and resumes, as after a first answer;
- after each restore, `after_restore()` re-seeds every pseudo-random source Baton's code uses:
  the `random` module's generator (claim-next's pick among the head of the queue, the backoff
  jitter of storage's transaction retries, botocore's retry jitter), whose state the snapshot
  holds, so that environments restored from one snapshot would otherwise draw the same
  numbers. `uuid.uuid4` and `secrets` read the kernel's generator, which the restore renews.
"""

from __future__ import annotations

import ast
import gc
import importlib
import importlib.util
import os
import sys
import threading
import types
from typing import Any

from baton import snapshot

_lock = threading.Lock()
_paused = False
_hooked = False
LEAN_PACKAGES = ("aws_lambda_powertools.event_handler", "aws_lambda_powertools.utilities.data_classes")


def prepare() -> None:
    """Start the cold-start measures: pause the collector and register the lean packages."""
    pause()
    for package in LEAN_PACKAGES:
        lean_package(package)
    snapstart_hooks()


def snapstart_hooks() -> bool:
    """Under SnapStart, register the runtime's before-snapshot and after-restore hooks (once);
    elsewhere nothing, not even the import. True when they are registered."""
    global _hooked
    if _hooked or os.environ.get("AWS_LAMBDA_INITIALIZATION_TYPE") != "snap-start":
        return _hooked
    try:
        from snapshot_restore_py import register_after_restore, register_before_snapshot
    except ImportError:  # a runtime without the hooks API: SnapStart still works, unprimed
        return False
    register_before_snapshot(before_snapshot)
    register_after_restore(after_restore)
    _hooked = True
    return True


def before_snapshot() -> None:
    snapshot.run_before()
    resume()  # initialisation is over: freeze what it built, collect from here on


def after_restore() -> None:
    import random

    random.seed()  # from os.urandom: each restored environment draws its own numbers
    snapshot.run_after()


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
