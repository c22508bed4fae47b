"""A container's HEALTHCHECK: GET http://127.0.0.1:<port><path> answers 200 (exit 0), else exit 1.

`--port-env VAR` reads the port from the container's environment (falling back to `--port`), so a
deployment that moves the port moves the check with it; `--tls-env VAR` switches to https when VAR
is set (the service then serves TLS only; a check of its own loopback address does not verify the
certificate, which names the service's host, not 127.0.0.1). Standard library only: it runs in
every image of the project, the Python services' and the infrastructure's alike.
"""

import argparse
import os
import ssl
import sys
import urllib.error
import urllib.request


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("path", help="e.g. /readyz")
    parser.add_argument("--port", type=int)
    parser.add_argument("--port-env")
    parser.add_argument("--tls-env")
    parser.add_argument("--timeout", type=float, default=4.0)
    args = parser.parse_args()
    port = os.environ.get(args.port_env, "") if args.port_env else ""
    port = port or str(args.port)
    tls = bool(args.tls_env and os.environ.get(args.tls_env))
    context = None
    if tls:
        context = ssl.create_default_context()
        context.check_hostname = False
        context.verify_mode = ssl.CERT_NONE
    url = f"{'https' if tls else 'http'}://127.0.0.1:{port}{args.path}"
    try:
        with urllib.request.urlopen(url, timeout=args.timeout, context=context) as response:
            return 0 if response.status == 200 else 1
    except (urllib.error.URLError, OSError) as error:
        sys.stderr.write(f"{url}: {error}\n")
        return 1


if __name__ == "__main__":
    sys.exit(main())
