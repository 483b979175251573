"""``python -m mixin``: see :mod:`mixin.generate`."""

from __future__ import annotations

import sys

from mixin.generate import main

sys.exit(main())
