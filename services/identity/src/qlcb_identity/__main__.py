import uvicorn

from qlcb_common.logging import configure_logging
from qlcb_identity.api import create_app
from qlcb_identity.settings import IdentitySettings

if __name__ == "__main__":
    settings = IdentitySettings()
    configure_logging("identity", settings.log_level)
    uvicorn.run(create_app(), host=settings.host, port=settings.port, log_config=None, access_log=False)
