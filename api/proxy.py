"""Who is asking and over what: the client address and scheme, believing X-Forwarded-For
and X-Forwarded-Proto only from a configured trusted proxy (``api_trusted_proxies``).

Anyone can send those headers; a login throttle keyed by a forged address, or a cookie
marked ``Secure`` by a forged scheme, would be worthless. So the headers count only when
the TCP peer is one of the proxies, and X-Forwarded-For is read from the right, skipping
trusted hops, up to the first address a trusted proxy vouched for.
"""

from __future__ import annotations

import ipaddress
from functools import lru_cache

from starlette.requests import HTTPConnection

from gis.settings import Settings

Network = ipaddress.IPv4Network | ipaddress.IPv6Network


@lru_cache(maxsize=8)
def _networks(proxies: tuple[str, ...]) -> tuple[Network, ...]:
    return tuple(ipaddress.ip_network(proxy, strict=False) for proxy in proxies)


def _trusted(address: str, settings: Settings) -> bool:
    try:
        ip = ipaddress.ip_address(address)
    except ValueError:
        return False
    return any(ip in network for network in _networks(tuple(settings.api_trusted_proxies)))


def _peer(connection: HTTPConnection) -> str:
    return connection.client.host if connection.client else ""


def client_address(connection: HTTPConnection, settings: Settings) -> str:
    """The client's IP address as far as trusted proxies vouch for it."""
    address = _peer(connection)
    if not _trusted(address, settings):
        return address
    hops = [hop.strip() for hop in connection.headers.get("x-forwarded-for", "").split(",")]
    for hop in reversed([hop for hop in hops if hop]):
        address = hop
        if not _trusted(hop, settings):
            break
    return address


def is_https(connection: HTTPConnection, settings: Settings) -> bool:
    """Served over HTTPS: directly, or (X-Forwarded-Proto) through a trusted proxy."""
    if connection.url.scheme == "https":
        return True
    if not _trusted(_peer(connection), settings):
        return False
    forwarded = connection.headers.get("x-forwarded-proto", "").split(",")[0].strip().lower()
    return forwarded == "https"


def secure_cookies(connection: HTTPConnection, settings: Settings) -> bool:
    """Cookies must carry ``Secure`` when the setting says so or the request came by HTTPS."""
    return settings.api_cookie_secure or is_https(connection, settings)


def own_origin(connection: HTTPConnection, settings: Settings) -> str:
    """scheme://host[:port] of this request as the browser addressed it."""
    scheme = "https" if is_https(connection, settings) else "http"
    host = connection.headers.get("host", "")
    if _trusted(_peer(connection), settings):
        host = connection.headers.get("x-forwarded-host", host).split(",")[0].strip()
    return f"{scheme}://{host}"
