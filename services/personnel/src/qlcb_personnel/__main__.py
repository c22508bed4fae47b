import sys

from qlcb_common.grpc_runtime import run
from qlcb_personnel.app import build_app

if __name__ == "__main__":
    sys.exit(run(build_app()))
