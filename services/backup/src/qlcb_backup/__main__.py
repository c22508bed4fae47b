import asyncio
import sys

from qlcb_backup.app import build_app
from qlcb_common.grpc_runtime import serve

if __name__ == "__main__":
    sys.exit(asyncio.run(serve(build_app())))
