"""The Lambda layer: the `baton` package and its dependencies for Python 3.13 on arm64,
built with pip's cross-platform wheels (no Docker). boto3 and botocore are left out: the
Lambda runtime ships them."""

from __future__ import annotations

import hashlib
import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
BUILD = ROOT / ".build"
REQUIREMENTS = ["aws-lambda-powertools[tracer]>=3.20,<4", "pydantic>=2.7,<3"]
PLATFORM = ["--platform", "manylinux2014_aarch64", "--implementation", "cp", "--python-version", "3.13",
            "--only-binary=:all:"]


def _fingerprint() -> str:
    digest = hashlib.sha256("\n".join(REQUIREMENTS + PLATFORM).encode())
    for path in sorted((ROOT / "layers" / "baton").rglob("*.py")):
        if "local" not in path.relative_to(ROOT / "layers" / "baton").parts:
            digest.update(path.read_bytes())
    return digest.hexdigest()[:16]


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
                    ignore=shutil.ignore_patterns("local", "__pycache__"))
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
