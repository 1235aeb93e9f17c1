"""Lambda functions, one module per API family. Each only translates HTTP to domain calls."""

from baton.platform import coldstart

# Before any function imports Powertools: see baton/platform/coldstart.py.
coldstart.pause()
for _package in coldstart.LEAN_PACKAGES:
    coldstart.lean_package(_package)
