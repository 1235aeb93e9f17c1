"""Path parameters whatever their characters. API Gateway routes a request and hands its path over
percent-decoded, so a parameter may hold quotes, backslashes, control characters or any Unicode,
none of which Powertools' route patterns match. The entry routes the path with each segment
percent-encoded (`routing_path`: only letters, digits, `-._~` and `%` remain), and each path
parameter is declared `Annotated[str, SEGMENT, Path(...)]`, which decodes it before its checks,
so a route sees exactly what API Gateway handed over (tests/unit/test_routes.py checks every
route declares it)."""

from __future__ import annotations

from urllib.parse import quote, unquote

from pydantic import BeforeValidator


def routing_path(raw: str) -> str:
    """`raw` with each segment percent-encoded (lone surrogates too: decoding gives them back)."""
    return "/".join(quote(part, safe="", errors="surrogatepass") for part in raw.split("/"))


def segment(value: object) -> object:
    """A path segment as it was before `routing_path` encoded it."""
    return unquote(value, errors="surrogatepass") if isinstance(value, str) else value


SEGMENT = BeforeValidator(segment)
