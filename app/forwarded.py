"""X-Forwarded-* headers, believed only from the reverse proxies the admin trusts.

From a trusted proxy, X-Forwarded-For gives the client's address (for
throttling and audit), -Proto the scheme (hrefs, the Secure cookie flag, HSTS)
-Host the host and -Prefix the path the proxy mounts Grove under (hrefs
start with it); from any other address they are removed unread.
"""

from __future__ import annotations

import ipaddress
import logging
import re
from typing import Any

logger = logging.getLogger(__name__)

Network = ipaddress.IPv4Network | ipaddress.IPv6Network
HEADERS = (
    "HTTP_X_FORWARDED_FOR",
    "HTTP_X_FORWARDED_PROTO",
    "HTTP_X_FORWARDED_HOST",
    "HTTP_X_FORWARDED_PREFIX",
)
# Where the proxy mounts Grove (X-Forwarded-Prefix): hrefs start with it.
PREFIX_KEY = "grove.prefix"
_PREFIX = re.compile(r"(/[A-Za-z0-9._~-]+)+")


def parse_networks(text: str) -> list[Network]:
    """``trusted_proxies``: addresses or networks, separated by commas."""
    return [
        ipaddress.ip_network(part.strip(), strict=False)
        for part in text.split(",")
        if part.strip()
    ]


def _trusted(address: str, networks: list[Network]) -> bool:
    try:
        ip = ipaddress.ip_address(address)
    except ValueError:
        return False
    return any(ip in network for network in networks)


def apply(environ: dict[str, Any], networks: list[Network]) -> None:
    """Rewrite REMOTE_ADDR, wsgi.url_scheme and HTTP_HOST from a trusted proxy."""
    if not networks or not _trusted(environ.get("REMOTE_ADDR", ""), networks):
        for header in HEADERS:
            environ.pop(header, None)
        return
    chain = [
        hop.strip()
        for hop in environ.pop("HTTP_X_FORWARDED_FOR", "").split(",")
        if hop.strip()
    ]
    # The client is the nearest address that is not a trusted proxy itself:
    # hops further left were written by whoever sent the request.
    while chain and _trusted(chain[-1], networks):
        chain.pop()
    if chain:
        environ["REMOTE_ADDR"] = chain[-1]
    proto = environ.pop("HTTP_X_FORWARDED_PROTO", "").split(",")[0].strip().lower()
    if proto in ("http", "https"):
        environ["wsgi.url_scheme"] = proto
    host = environ.pop("HTTP_X_FORWARDED_HOST", "").split(",")[0].strip()
    if host:
        environ["HTTP_HOST"] = host
    prefix = environ.pop("HTTP_X_FORWARDED_PREFIX", "").split(",")[0].strip()
    prefix = prefix.rstrip("/")
    if prefix and _PREFIX.fullmatch(prefix) and "/../" not in prefix + "/":
        environ[PREFIX_KEY] = prefix
    elif prefix:
        logger.warning("ignored X-Forwarded-Prefix %r from a trusted proxy", prefix)
