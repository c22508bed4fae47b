import math

import uvicorn

from qlcb_common.logging import configure_logging
from qlcb_gateway.app import create_app
from qlcb_gateway.settings import GatewaySettings

if __name__ == "__main__":
    settings = GatewaySettings()  # type: ignore[call-arg]
    configure_logging("gateway", settings.log_level)
    uvicorn.run(
        create_app(settings),
        host=settings.host,
        port=settings.port,
        log_config=None,
        access_log=False,
        timeout_graceful_shutdown=math.ceil(settings.shutdown_grace_seconds),  # whole seconds
    )
