"""Readiness probes for `procs.wait_until`."""

import httpx


def http_ok(url: str, *, timeout: float = 2.0) -> bool:
    """True when GET `url` answers 200; connection errors count as not ready."""
    try:
        return httpx.get(url, timeout=timeout).status_code == 200
    except httpx.TransportError:
        return False
