import asyncio

from qlcb_common.grpc_runtime import serve
from qlcb_reports.app import build_app

if __name__ == "__main__":
    asyncio.run(serve(build_app()))
