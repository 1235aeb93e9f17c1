"""`baton serve` and `baton token`."""

from __future__ import annotations

import argparse
import contextlib
import os
import signal
import sys
import threading
from pathlib import Path
from typing import Any

from baton.local import tokens

DEFAULT_STATE = ".baton"


def _state_dir(value: str | None) -> Path:
    return Path(value or os.environ.get("BATON_STATE_DIR") or DEFAULT_STATE).resolve()


def cmd_token(args: argparse.Namespace) -> int:
    key = tokens.load_key(_state_dir(args.state_dir))
    roles = [r for r in args.roles.split(",") if r]
    print(f"# token for {args.user} in tenant {args.tenant}, roles {roles}, valid {args.ttl}s")
    print(tokens.issue(key, user=args.user, tenant=args.tenant, roles=roles, username=args.username,
                       ttl=args.ttl))
    return 0


def _configure_environment(endpoint: str, table: str) -> None:
    os.environ.update({
        "TABLE_NAME": table, "DYNAMODB_ENDPOINT": endpoint,
        "AWS_ACCESS_KEY_ID": os.environ.get("AWS_ACCESS_KEY_ID", "local"),
        "AWS_SECRET_ACCESS_KEY": os.environ.get("AWS_SECRET_ACCESS_KEY", "local"),
        "AWS_DEFAULT_REGION": os.environ.get("AWS_DEFAULT_REGION", "us-east-1"),
        "POWERTOOLS_TRACE_DISABLED": "1", "POWERTOOLS_SERVICE_NAME": "baton",
        "POWERTOOLS_METRICS_NAMESPACE": "Baton", "POWERTOOLS_LOG_LEVEL": os.environ.get("LOG_LEVEL", "WARNING"),
    })
    from baton.settings import get_settings
    from baton.store import _client

    get_settings.cache_clear()
    _client.cache_clear()


def cmd_serve(args: argparse.Namespace) -> int:
    from baton.local.ddblocal import DynamoDBLocal, java_available

    state = _state_dir(args.state_dir)
    key = tokens.load_key(state)
    engine: Any = None
    serialize = False
    if args.dynamodb_endpoint:
        endpoint, note = args.dynamodb_endpoint, f"DynamoDB at {args.dynamodb_endpoint}"
    elif java_available():
        engine = DynamoDBLocal(state / "dynamodb").start()
        endpoint, note = engine.endpoint, f"Amazon DynamoDB Local on {engine.endpoint}, data in {state}/dynamodb"
    else:
        from moto.server import ThreadedMotoServer

        from baton.local.ddblocal import free_port

        port = free_port()
        engine = ThreadedMotoServer(ip_address="127.0.0.1", port=port, verbose=False)
        engine.start()
        endpoint, serialize = f"http://127.0.0.1:{port}", True
        note = ("WARNING: Java or DynamoDB Local missing: falling back to an in-memory moto server; "
                "requests are serialized and nothing survives a restart")
    _configure_environment(endpoint, args.table)

    from baton.local import demo
    from baton.local.server import running
    from baton.store import get_store
    from baton.table import ensure_table

    store = get_store()
    ensure_table(store.client, args.table)
    migrated = store.migrate()  # data of an older Baton under .baton/ gets the current keys
    loaded = demo.load(store)
    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    from baton.local.eventfeed import open_feed

    feed = None
    try:
        with running(args.host, args.port, key, serialize, args.idle_timeout) as server:
            app: Any = server.app  # the LocalApi
            app.feed = feed = open_feed(endpoint, os.environ["AWS_DEFAULT_REGION"], args.table, app.lock)
            url = f"http://{args.host}:{server.server_address[1]}"
            print(f"Baton is listening on {url}")
            print(f"  Swagger UI:  {url}/swagger   OpenAPI: {url}/openapi.json")
            print(f"  Events:      {url}/local/events (Server-Sent Events, bearer token)")
            print(f"  Storage:     {note}")
            print(f"  Demo data:   tenant '{demo.TENANT}' {'loaded' if loaded else 'already present'}")
            if migrated:
                print(f"  Migrated:    {migrated} tasks to the current keys")
            print("  Get a token: .venv/bin/baton token --user alice --roles operations --tenant workflow")
            sys.stdout.flush()
            with contextlib.suppress(KeyboardInterrupt):
                stop.wait()
    finally:
        if feed is not None:
            feed.close()
        if engine is not None:
            engine.stop()
    return 0


def cmd_migrate(args: argparse.Namespace) -> int:
    """Bring a table's indexes and task items to the current key scheme (also done by `serve`)."""
    from baton.local.ddblocal import DynamoDBLocal

    engine: Any = None
    if args.dynamodb_endpoint:
        endpoint = args.dynamodb_endpoint
    else:
        engine = DynamoDBLocal(_state_dir(args.state_dir) / "dynamodb").start()
        endpoint = engine.endpoint
    try:
        _configure_environment(endpoint, args.table)
        from baton.store import get_store
        from baton.table import ensure_table

        store = get_store()
        ensure_table(store.client, args.table)
        print(f"Migrated {store.migrate()} tasks of table {args.table}")
    finally:
        if engine is not None:
            engine.stop()
    return 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="baton", description="Baton local tools")
    sub = parser.add_subparsers(dest="command", required=True)
    serve = sub.add_parser("serve", help="run the local API")
    serve.add_argument("--host", default="127.0.0.1")
    serve.add_argument("--port", type=int, default=int(os.environ.get("PORT", "3000")))
    serve.add_argument("--dynamodb-endpoint", default=None)
    serve.add_argument("--table", default="baton")
    serve.add_argument("--state-dir", default=None)
    serve.add_argument("--idle-timeout", type=float, default=30.0,
                       help="seconds a connection may stay silent, before or inside a request (then 408 or close)")
    serve.set_defaults(func=cmd_serve)
    migrate = sub.add_parser("migrate", help="bring stored data to the current key scheme (serve does it too)")
    migrate.add_argument("--dynamodb-endpoint", default=None)
    migrate.add_argument("--table", default="baton")
    migrate.add_argument("--state-dir", default=None)
    migrate.set_defaults(func=cmd_migrate)
    token = sub.add_parser("token", help="print a bearer token the local server accepts")
    token.add_argument("--user", required=True)
    token.add_argument("--roles", default="")
    token.add_argument("--tenant", required=True)
    token.add_argument("--username", default=None)
    token.add_argument("--ttl", type=int, default=3600)
    token.add_argument("--state-dir", default=None)
    token.set_defaults(func=cmd_token)
    args = parser.parse_args(argv)
    result: int = args.func(args)
    return result


if __name__ == "__main__":
    sys.exit(main())
