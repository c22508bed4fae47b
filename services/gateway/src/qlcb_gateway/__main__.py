from qlcb_common import http_server
from qlcb_common.logging import configure_logging
from qlcb_gateway.app import create_app
from qlcb_gateway.settings import GatewaySettings

if __name__ == "__main__":
    settings = GatewaySettings()  # type: ignore[call-arg]
    configure_logging("gateway", settings.log_level)
    http_server.run(create_app(settings), settings, port=settings.port)
