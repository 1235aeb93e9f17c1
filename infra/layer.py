"""The Lambda layer: the `baton` package (with its pages, `baton/web/`), Swagger UI's two asset
files and the dependencies for Python 3.13 on arm64, built with pip's cross-platform wheels (no
Docker). boto3 and botocore are left out: the
Lambda runtime ships them. The layer ships bytecode compiled by a Python 3.13 where one is on
the machine (a read-only /opt means the runtime would otherwise compile every module on every
cold start); without one it ships sources only and says so."""

from __future__ import annotations

import glob
import hashlib
import os
import shutil
import subprocess
import sys
import tempfile
from importlib import metadata
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
BUILD = ROOT / ".build"
REQUIREMENTS = ["aws-lambda-powertools[tracer]>=3.20,<4", "pydantic>=2.7,<3"]
PLATFORM = ["--platform", "manylinux2014_aarch64", "--implementation", "cp", "--python-version", "3.13",
            "--only-binary=:all:"]


def python313() -> str | None:
    """A Python 3.13 interpreter on this machine, for the layer's bytecode (None if there is none)."""
    candidates = [os.environ.get("BATON_PYTHON313"), shutil.which("python3.13"),
                  *sorted(glob.glob(os.path.expanduser("~/.pyenv/versions/3.13*/bin/python3.13")))]
    for candidate in filter(None, candidates):
        probe = subprocess.run([candidate, "-c", "import sys; assert sys.version_info[:2] == (3, 13)"],
                               capture_output=True, check=False)
        if probe.returncode == 0:
            return candidate
    return None


def _fingerprint() -> str:
    digest = hashlib.sha256("\n".join(REQUIREMENTS + PLATFORM + [str(bool(python313())),
                                                                 metadata.version("swagger-ui-py")]).encode())
    for path in sorted((ROOT / "layers" / "baton").rglob("*")):
        parts = path.relative_to(ROOT / "layers" / "baton").parts
        if path.is_file() and "__pycache__" not in parts:
            digest.update(path.name.encode() + path.read_bytes())
    return digest.hexdigest()[:16]


def _swagger_ui(site: Path) -> None:
    """Swagger UI's two asset files (and its licence) from the installed swagger-ui-py, laid out as
    the package's `static/` folder: the docs function serves them, nothing else of it is needed."""
    from baton.web import SWAGGER_PACKAGE, swagger_ui_static

    static = site / "swagger_ui" / "static"
    static.mkdir(parents=True)
    for name in SWAGGER_PACKAGE:
        shutil.copy2(swagger_ui_static() / name, static / name)
    (site / "swagger_ui" / "LICENSE").write_text(metadata.distribution("swagger-ui-py").read_text("LICENSE") or "")


def _publish(staging: Path, target: Path) -> Path:
    """Move a finished build into place atomically; if another process got there first, keep theirs."""
    try:
        os.rename(staging, target)
    except OSError:
        shutil.rmtree(staging, ignore_errors=True)
    return target


def built_layer() -> Path | None:
    """The layer directory if it is already built for the current sources, else None."""
    target = BUILD / f"layer-{_fingerprint()}"
    return target if target.exists() else None


def build_layer() -> Path:
    """Build (or reuse) the layer directory: `.build/layer-<hash>/python/...`."""
    target = BUILD / f"layer-{_fingerprint()}"
    if target.exists():
        return target
    staging = Path(tempfile.mkdtemp(prefix="layer-", dir=_build_dir()))
    site = staging / "python"
    subprocess.run([sys.executable, "-m", "pip", "install", "--quiet", "--disable-pip-version-check",
                    *PLATFORM, "--target", str(site), *REQUIREMENTS], check=True)
    for junk in ("boto3", "botocore", "s3transfer", "jmespath", "dateutil", "urllib3", "six.py", "bin"):
        for path in site.glob(junk):
            shutil.rmtree(path) if path.is_dir() else path.unlink()
    for cache in site.rglob("__pycache__"):
        shutil.rmtree(cache, ignore_errors=True)
    shutil.copytree(ROOT / "layers" / "baton", site / "baton",
                    ignore=shutil.ignore_patterns("__pycache__"))
    _swagger_ui(site)
    compiler = python313()
    if compiler:
        # unchecked-hash: a layer never changes, so the runtime need not stat or hash sources.
        subprocess.run([compiler, "-m", "compileall", "-q", "-j", "0", "--invalidation-mode", "unchecked-hash",
                        str(site)], check=True, stdout=subprocess.DEVNULL)
    else:
        print("layer: no Python 3.13 here, shipping sources without bytecode", file=sys.stderr)
    return _publish(staging, target)


def build_functions() -> Path:
    """The functions' code asset: `baton_functions/<family>.py`, as imported locally."""
    sources = sorted((ROOT / "functions").glob("*.py"))
    digest = hashlib.sha256(b"".join(p.name.encode() + p.read_bytes() for p in sources)).hexdigest()[:16]
    target = BUILD / f"functions-{digest}"
    if target.exists():
        return target
    staging = Path(tempfile.mkdtemp(prefix="functions-", dir=_build_dir()))
    package = staging / "baton_functions"
    package.mkdir()
    for source in sources:
        shutil.copy2(source, package / source.name)
    return _publish(staging, target)


def _build_dir() -> Path:
    BUILD.mkdir(parents=True, exist_ok=True)
    return BUILD


def size_mb(path: Path) -> float:
    return sum(p.stat().st_size for p in path.rglob("*") if p.is_file()) / 1_000_000


if __name__ == "__main__":
    built = build_layer()
    print(f"layer: {built} unzipped {size_mb(built):.1f} MB (goal: at most 25 MB)")
