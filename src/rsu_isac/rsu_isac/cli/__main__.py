"""``python -m rsu_isac.cli``: the ``rsu-isac`` command."""

import sys

from rsu_isac.cli import main

sys.exit(main())
