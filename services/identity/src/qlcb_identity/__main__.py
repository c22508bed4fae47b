import argparse
import sys

from qlcb_common import http_server
from qlcb_common.certificates import export_certificate_expiry
from qlcb_common.logging import configure_logging
from qlcb_identity import credential_rotation
from qlcb_identity.api import create_app
from qlcb_identity.realm import cli as realm_cli
from qlcb_identity.settings import IdentitySettings


def main() -> int:
    parser = argparse.ArgumentParser(prog="python -m qlcb_identity")
    commands = parser.add_subparsers(dest="command")
    realm = commands.add_parser("realm", help="compare or apply the realm definition")
    realm.add_argument("action", choices=["diff", "apply"])
    keys = commands.add_parser("credentials", help="seal open first-login deliveries with the newest key")
    keys.add_argument("action", choices=["rotate"])
    args = parser.parse_args()
    if args.command == "realm":
        configure_logging("identity", "WARNING")
        return realm_cli.main(args.action)
    if args.command == "credentials":
        configure_logging("identity", "WARNING")
        return credential_rotation.main()
    settings = IdentitySettings()  # type: ignore[call-arg]
    configure_logging("identity", settings.log_level)
    if settings.tls_cert_file is not None:
        export_certificate_expiry("identity", "https", settings.tls_cert_file)
    http_server.run(
        create_app(settings),
        settings,
        port=settings.port,
        ssl_certfile=settings.tls_cert_file,
        ssl_keyfile=settings.tls_key_file,
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
