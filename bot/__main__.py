"""``python -m bot`` is the ``newsbrief`` command."""

import sys

from bot.cli import main

sys.exit(main())
