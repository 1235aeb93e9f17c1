"""`baton serve` and `baton token`."""

from __future__ import annotations

import argparse
import contextlib
import os
import signal
import sys
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from baton_local import tokens

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


CURSOR_KEY_FILE = "cursor.key"


def cursor_key(state: Path) -> str:
    """The state dir's secret keying the cursors' MACs (created on first use, mode 0600)."""
    import secrets

    state.mkdir(parents=True, exist_ok=True)
    path = state / CURSOR_KEY_FILE
    if not path.exists():
        path.write_text(secrets.token_hex(32))
        path.chmod(0o600)
    return path.read_text().strip()


def _configure_environment(endpoint: str, table: str, state: Path | None = None) -> None:
    if state is not None:
        os.environ["BATON_CURSOR_KEY"] = cursor_key(state)  # before the workers fork: one key for all
    os.environ.update({
        "TABLE_NAME": table, "DYNAMODB_ENDPOINT": endpoint,
        "AWS_ACCESS_KEY_ID": os.environ.get("AWS_ACCESS_KEY_ID", "local"),
        "AWS_SECRET_ACCESS_KEY": os.environ.get("AWS_SECRET_ACCESS_KEY", "local"),
        "AWS_DEFAULT_REGION": os.environ.get("AWS_DEFAULT_REGION", "us-east-1"),
        "POWERTOOLS_TRACE_DISABLED": "1", "POWERTOOLS_SERVICE_NAME": "baton",
        "POWERTOOLS_METRICS_NAMESPACE": "Baton", "POWERTOOLS_LOG_LEVEL": os.environ.get("LOG_LEVEL", "WARNING"),
    })
    from baton.settings import get_settings
    from baton.storage.dynamo import _client

    get_settings.cache_clear()
    _client.cache_clear()


def _say(line: str) -> None:
    print(line, flush=True)


def _stream_consumers(args: argparse.Namespace, state: Path, store: Any, lock: Any = None) -> list[Any]:
    """What the stream drives besides the event feed: the router (groups with a routing
    strategy get their tasks pushed), and Step Functions callbacks when an endpoint is given
    (Step Functions Local, say)."""
    from baton_local.router import RouterConsumer

    router = RouterConsumer(store, lock)  # with moto (not thread-safe), routing takes the requests' lock
    if not args.states_endpoint:
        return [router]
    import boto3

    from baton.tasks.callbacks import Deliverer
    from baton_local.callbacks import CallbackConsumer

    states = boto3.client("stepfunctions", endpoint_url=args.states_endpoint)
    return [router, CallbackConsumer(Deliverer(store, states), state)]


def cmd_serve(args: argparse.Namespace) -> int:
    from baton_local.ddblocal import DynamoDBLocal, java_available

    state = _state_dir(args.state_dir)
    key = tokens.load_key(state)
    engine: Any = None
    serialize = False
    if args.dynamodb_endpoint:
        endpoint, note = args.dynamodb_endpoint, f"DynamoDB at {args.dynamodb_endpoint}"
    elif java_available():
        _say(f"• starting Amazon DynamoDB Local (Java), data in {state}/dynamodb")
        engine = DynamoDBLocal(state / "dynamodb").start()
        endpoint, note = engine.endpoint, f"Amazon DynamoDB Local on {engine.endpoint}, data in {state}/dynamodb"
    else:
        from moto.server import ThreadedMotoServer

        from baton_local.ddblocal import free_port

        port = free_port()
        _say("• Java or DynamoDB Local missing: starting an in-memory moto server instead")
        engine = ThreadedMotoServer(ip_address="127.0.0.1", port=port, verbose=False)
        engine.start()
        endpoint, serialize = f"http://127.0.0.1:{port}", True
        os.environ["BATON_BULK_WORKERS"] = "1"  # moto is not thread-safe: a bulk request's writes in turn
        note = ("WARNING: Java or DynamoDB Local missing: falling back to an in-memory moto server; "
                "requests are serialized and nothing survives a restart")
    _configure_environment(endpoint, args.table, state)
    from baton.signin.backend import use_backend
    from baton_local import credentials

    use_backend(credentials.LocalBackend(state))  # the sign-in routes answer from the local issuer
    signins = credentials.ensure_demo(state)

    from baton.storage.dynamo import get_dynamo
    from baton.table import ensure_table
    from baton.tasks.migration import migrate
    from baton_local import demo
    from baton_local.server import running

    _say(f"• table '{args.table}' and the demo tenant '{demo.TENANT}'")
    store = get_dynamo()
    ensure_table(store.client, args.table)
    migrated = migrate(store)  # data of an older Baton under .baton/ gets the current keys
    loaded = demo.load(store)
    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    from baton_local.eventfeed import open_feed
    from baton_local.workers import Workers

    # Requests run concurrently in worker processes, one at a time each, as Lambda runs them (with
    # moto, which is not thread-safe, they run one at a time in this process).
    workers = None if serialize else Workers(args.workers)
    feed = sweeper = None
    try:
        # Sign-ins (an scrypt hash each) get a quarter of the workers at most: the rest serve the API.
        with running(args.host, args.port, key, serialize, args.idle_timeout,
                     handlers=workers.handlers() if workers else None,
                     signin_slots=max(1, args.workers // 4)) as server:
            app: Any = server.app  # the LocalApi
            from baton_local.sweeper import SweeperThread

            # escalation steps fire within a second of their due time: the stream says when
            sweeper = SweeperThread(store, lock=app.lock)
            app.feed = feed = open_feed(endpoint, os.environ["AWS_DEFAULT_REGION"], args.table, app.lock,
                                        [*_stream_consumers(args, state, store, app.lock if serialize else None),
                                         sweeper])
            sweeper.start()
            url = f"http://{args.host}:{server.server_address[1]}"
            print(f"Baton is listening on {url}")
            print(f"  Inbox:       {url}/   (as a demo user: {url}/?user=alice)")
            print(f"  Swagger UI:  {url}/swagger   OpenAPI: {url}/openapi.json")
            print(f"  Events:      {url}/local/events (Server-Sent Events, bearer token)")
            if args.states_endpoint:
                print(f"  Callbacks:   Step Functions at {args.states_endpoint}")
            print(f"  Storage:     {note}")
            print(f"  Demo data:   tenant '{demo.TENANT}' {'loaded' if loaded else 'already present'}")
            if migrated:
                print(f"  Migrated:    {migrated} tasks to the current keys")
            print(f"  Sign-in:     {credentials.describe(signins)}")
            print("  Get a token: .venv/bin/baton token --user alice --roles operations --tenant workflow")
            sys.stdout.flush()
            with contextlib.suppress(KeyboardInterrupt):
                stop.wait()
    finally:
        if sweeper is not None:
            sweeper.close()
        if feed is not None:
            feed.close()
        if workers is not None:
            workers.close()
        if engine is not None:
            engine.stop()
    return 0


@contextlib.contextmanager
def _table(args: argparse.Namespace) -> Iterator[Any]:
    """The table of `--dynamodb-endpoint`, or of a DynamoDB Local started in the state dir for the
    command's length: configured, brought to the current key scheme, its handle yielded."""
    from baton_local.ddblocal import DynamoDBLocal

    engine: Any = None
    if args.dynamodb_endpoint:
        endpoint = args.dynamodb_endpoint
    else:
        engine = DynamoDBLocal(_state_dir(args.state_dir) / "dynamodb").start()
        endpoint = engine.endpoint
    try:
        _configure_environment(endpoint, args.table)
        from baton.storage.dynamo import get_dynamo
        from baton.table import ensure_table

        store = get_dynamo()
        ensure_table(store.client, args.table)
        yield store
    finally:
        if engine is not None:
            engine.stop()


def cmd_migrate(args: argparse.Namespace) -> int:
    """Bring a table's indexes and task items to the current key scheme (also done by `serve`)."""
    with _table(args) as store:
        from baton.tasks.migration import migrate

        print(f"Migrated {migrate(store)} tasks of table {args.table}")
    return 0


def cmd_sweep(args: argparse.Namespace) -> int:
    """Run the escalation sweeper by hand: one sweep (`--once`), or one every `--interval` seconds."""
    import json
    import time

    with contextlib.suppress(KeyboardInterrupt), _table(args) as store:
        from baton.tasks.sweeper import Sweeper

        sweeper = Sweeper(store)
        while True:
            report = sweeper.sweep()
            print(json.dumps(report.public()), flush=True)
            if args.once:
                return 1 if report.failed else 0
            time.sleep(args.interval)
    return 0


def cmd_credentials(args: argparse.Namespace) -> int:
    from baton_local import credentials

    state = _state_dir(args.state_dir)
    store = credentials.Store.load(state)
    roles = [r for r in args.roles.split(",") if r]
    if args.kind == "user":
        store.add_user(args.name, args.secret, args.tenant, roles, args.user_id)
    else:
        store.add_client(args.name, args.secret, args.tenant, roles)
    store.save()
    print(f"# {args.kind} {args.name} of tenant {args.tenant}, roles {roles}: kept in {store.path}")
    return 0


def parser() -> argparse.ArgumentParser:
    top = argparse.ArgumentParser(
        prog="baton", description="Baton's local tools: run the API on this machine, mint tokens for it.",
        epilog="Run `baton COMMAND --help` for a command's options. The README has a walk-through.")
    sub = top.add_subparsers(dest="command", required=True, metavar="COMMAND")
    serve = sub.add_parser(
        "serve", help="run the API locally, with the inbox, Swagger UI and demo data",
        description="Run every route of the route table on one local HTTP server, as API Gateway and the "
                    "functions would, on Amazon DynamoDB Local (or the DynamoDB you name). Loads the demo "
                    "tenant 'workflow' once. The inbox is at /, Swagger UI at /swagger. LOG_LEVEL sets "
                    "the functions' log level (default WARNING).")
    serve.add_argument("--host", default="127.0.0.1", help="address to listen on (default: 127.0.0.1)")
    serve.add_argument("--port", type=int, default=int(os.environ.get("PORT", "3000")),
                       help="port to listen on (default: $PORT or 3000)")
    serve.add_argument("--dynamodb-endpoint", default=None, metavar="URL",
                       help="use this DynamoDB instead of starting DynamoDB Local")
    serve.add_argument("--table", default="baton", help="the table's name, created when missing (default: baton)")
    serve.add_argument("--state-dir", default=None, metavar="DIR",
                       help=f"where the token key and DynamoDB Local's data live (default: $BATON_STATE_DIR "
                            f"or {DEFAULT_STATE})")
    serve.add_argument("--idle-timeout", type=float, default=30.0, metavar="SECONDS",
                       help="seconds a connection may stay silent, before or inside a request (then 408 or close; "
                            "default: 30)")
    serve.add_argument("--states-endpoint", default=os.environ.get("BATON_STATES_ENDPOINT"), metavar="URL",
                       help="deliver Step Functions callbacks of tasks made with a task token to this endpoint "
                            "(e.g. Step Functions Local; default: $BATON_STATES_ENDPOINT, else none)")
    serve.add_argument("--workers", type=int, default=8, metavar="N",
                       help="worker processes running the functions, one request at a time each (default: 8)")
    serve.set_defaults(func=cmd_serve)
    migrate = sub.add_parser(
        "migrate", help="bring stored data to the current key scheme (serve does it too)",
        description="Bring a table's indexes and task items to the current key scheme: data written by an "
                    "older Baton gets the keys the current one reads. `baton serve` does it on start.")
    migrate.add_argument("--dynamodb-endpoint", default=None, metavar="URL",
                         help="migrate this DynamoDB instead of the state directory's DynamoDB Local")
    migrate.add_argument("--table", default="baton", help="the table's name (default: baton)")
    migrate.add_argument("--state-dir", default=None, metavar="DIR",
                         help=f"where DynamoDB Local's data live (default: $BATON_STATE_DIR or {DEFAULT_STATE})")
    migrate.set_defaults(func=cmd_migrate)
    sweep = sub.add_parser(
        "sweep", help="run the escalation sweeper (serve runs it every half second)",
        description="Fire the escalation steps that are due (docs/data-model.md, \"Escalation timers\"): the code "
                    "the AWS function runs every minute and `baton serve` runs in a thread. Prints what each "
                    "sweep did as a JSON line; exits 1 when --once left a timer it could not handle.")
    sweep.add_argument("--once", action="store_true", help="one sweep, then exit")
    sweep.add_argument("--interval", type=float, default=1.0, metavar="SECONDS",
                       help="seconds between sweeps without --once (default: 1)")
    sweep.add_argument("--dynamodb-endpoint", default=None, metavar="URL",
                       help="sweep this DynamoDB instead of the state directory's DynamoDB Local")
    sweep.add_argument("--table", default="baton", help="the table's name (default: baton)")
    sweep.add_argument("--state-dir", default=None, metavar="DIR",
                       help=f"where DynamoDB Local's data live (default: $BATON_STATE_DIR or {DEFAULT_STATE})")
    sweep.set_defaults(func=cmd_sweep)
    token = sub.add_parser(
        "token", help="print a bearer token the local server accepts",
        description="Print an RS256 JWT signed by the local issuer (its key is the state directory's "
                    f"{tokens.KEY_FILE}), carrying the claims API Gateway's authorizer would pass on: sub, "
                    "username, custom:tenant and the roles (cognito:groups). The token is the last line of "
                    "the output.")
    token.add_argument("--user", required=True, help="the user id (the token's sub), e.g. alice")
    token.add_argument("--roles", default="", metavar="ROLE[,ROLE...]",
                       help="comma-separated roles among admin, apiwrite, engineering, operations, PM_FACTORY "
                            "(default: none)")
    token.add_argument("--tenant", required=True, help="the tenant (custom:tenant); the demo one is workflow")
    token.add_argument("--username", default=None, help="the username claim (default: the user id)")
    token.add_argument("--ttl", type=int, default=3600, metavar="SECONDS", help="lifetime of the token (default: 3600)")
    token.add_argument("--state-dir", default=None, metavar="DIR",
                       help="the state directory of the server that will verify it (default: $BATON_STATE_DIR "
                            f"or {DEFAULT_STATE})")
    token.set_defaults(func=cmd_token)
    creds = sub.add_parser(
        "credentials", help="add a sign-in user (password) or client (secret) for baton serve",
        description="Add a username/password or a client id/secret to the local issuer's credentials, for the "
                    "vendor sign-in routes (POST /oauth/token, /login, /{workspace}/oauth2/token).")
    creds.add_argument("kind", choices=["user", "client"],
                       help="a user (password grant) or a client (client credentials)")
    creds.add_argument("name", help="the username or client id")
    creds.add_argument("--secret", required=True, help="the password or client secret")
    creds.add_argument("--tenant", required=True, help="the tenant its tokens are for")
    creds.add_argument("--roles", default="", help="comma-separated roles its tokens carry (default: none)")
    creds.add_argument("--user-id", default=None, help="a user's id in the directory (default: its username)")
    creds.add_argument("--state-dir", default=None, metavar="DIR",
                       help=f"the state directory of the server (default: $BATON_STATE_DIR or {DEFAULT_STATE})")
    creds.set_defaults(func=cmd_credentials)
    return top


def main(argv: list[str] | None = None) -> int:
    args = parser().parse_args(argv)
    result: int = args.func(args)
    return result


if __name__ == "__main__":
    sys.exit(main())
