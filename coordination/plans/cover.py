"""Moved to :mod:`coordination.major_events.cover` (issue 20).

This name stays an alias of the moved module, so code written against the old
place keeps working until it is updated; new code imports the new place.
"""

import sys

from ..major_events import cover as _moved

sys.modules[__name__] = _moved
