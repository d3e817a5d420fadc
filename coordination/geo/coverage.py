"""Moved to :mod:`coordination.coverage.compute` (issue 20): service-radius coverage is
in one package now.

This name stays an alias of the moved module, so code written against the old
place keeps working until it is updated; new code imports the new place.
"""

import sys

from ..coverage import compute as _moved

sys.modules[__name__] = _moved
