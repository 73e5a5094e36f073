"""``python -m mdl.cli``: the ``mdl`` command."""

import sys

from mdl.cli import main

sys.exit(main())
