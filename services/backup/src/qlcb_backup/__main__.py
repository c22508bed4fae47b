import sys

from qlcb_backup.app import build_app
from qlcb_common.grpc_runtime import run

if __name__ == "__main__":
    sys.exit(run(build_app()))
