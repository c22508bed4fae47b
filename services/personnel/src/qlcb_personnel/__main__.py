import asyncio
import sys

from qlcb_common.grpc_runtime import serve
from qlcb_personnel.app import build_app

if __name__ == "__main__":
    sys.exit(asyncio.run(serve(build_app())))
