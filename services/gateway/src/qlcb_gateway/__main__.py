from qlcb_common import http_server
from qlcb_common.certificates import export_certificate_expiry
from qlcb_common.logging import configure_logging
from qlcb_gateway.app import create_app
from qlcb_gateway.settings import GatewaySettings

if __name__ == "__main__":
    settings = GatewaySettings()  # type: ignore[call-arg]
    configure_logging("gateway", settings.log_level)
    if settings.grpc_tls_cert_file is not None:
        # The client certificate the backends require: read once at start, so its end ends every call.
        export_certificate_expiry("gateway", "grpc-client", settings.grpc_tls_cert_file)
    http_server.run(create_app(settings), settings, port=settings.port)
