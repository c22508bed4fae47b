import asyncio

from qlcb_backup.app import build_app
from qlcb_common.grpc_runtime import serve

if __name__ == "__main__":
    asyncio.run(serve(build_app()))
