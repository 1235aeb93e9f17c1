"""DynamoDB Local as baton_local.ddblocal runs it (issue 23, item 4): on 127.0.0.1 only, and
no web page may read from it. Before, it listened on every interface (`*:port`) and answered
any origin (`Access-Control-Allow-Origin: *`), with any credentials."""

from __future__ import annotations

import http.client
from pathlib import Path

from baton_local.ddblocal import DynamoDBLocal

LISTEN = "0A"


def listening_addresses(port: int) -> list[str]:
    """The local addresses (hex, as /proc/net/tcp{,6} write them) of the sockets listening on `port`."""
    found = []
    for table in ("/proc/net/tcp", "/proc/net/tcp6"):
        for line in Path(table).read_text().splitlines()[1:]:
            fields = line.split()
            address, _, hex_port = fields[1].partition(":")
            if int(hex_port, 16) == port and fields[3] == LISTEN:
                found.append(address)
    return found


LOOPBACK_V4 = "0100007F"  # 127.0.0.1, little-endian
LOOPBACK_V4_IN_V6 = "0000000000000000FFFF00000100007F"  # ::ffff:127.0.0.1


def test_dynamodb_local_listens_on_loopback_only(ddb_local: DynamoDBLocal) -> None:
    addresses = listening_addresses(ddb_local.port)
    assert addresses, "nothing listens on DynamoDB Local's port"
    assert set(addresses) <= {LOOPBACK_V4, LOOPBACK_V4_IN_V6}, addresses  # never 0.0.0.0 or ::


def test_no_web_page_may_read_dynamodb_local(ddb_local: DynamoDBLocal) -> None:
    for origin in ("http://evil.example", "null", "http://127.0.0.1:3000"):
        conn = http.client.HTTPConnection("127.0.0.1", ddb_local.port, timeout=10)
        conn.request("OPTIONS", "/", headers={"Origin": origin, "Access-Control-Request-Method": "POST",
                                              "Access-Control-Request-Headers": "content-type,x-amz-target"})
        answer = conn.getresponse()
        answer.read()
        conn.close()
        allowed = answer.getheader("Access-Control-Allow-Origin")
        assert allowed not in ("*", origin), (origin, allowed)
