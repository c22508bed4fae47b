import sys

from qlcb_devstack.cli import main

sys.exit(main())
