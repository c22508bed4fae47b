"""Readiness probes for `procs.wait_until`."""

import ssl

import httpx


def http_ok(url: str, *, timeout: float = 2.0, verify: ssl.SSLContext | bool = True) -> bool:
    """True when GET `url` answers 200; connection errors count as not ready. `verify` checks an
    https server's certificate (e.g. against devstack's own CA)."""
    try:
        return httpx.get(url, timeout=timeout, verify=verify).status_code == 200
    except httpx.TransportError:
        return False
