"""Lambda functions, one module per API family. Each only translates HTTP to domain calls.

Importing this package starts the cold-start measures (baton/edge/coldstart.py): Lambda imports it
before any function module (`baton_functions.<family>.lambda_handler`), so they are in place before
anything a function imports, whatever order its imports are sorted in."""

from baton.edge import coldstart

coldstart.prepare()
