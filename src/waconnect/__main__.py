"""``python -m waconnect``: the ``waconnect`` command."""

import sys

from waconnect.entrypoints.cli import main

sys.exit(main())
