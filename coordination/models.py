"""Imports every model so the metadata is complete (for Alembic and tests)."""

from __future__ import annotations

from .auth import models as auth_models
from .contexts import Context
from .db import Base
from .dutylog import models as dutylog_models
from .events import Event
from .facilities import models as facility_models
from .geo import models as geo_models
from .geo import places as place_models
from .geo import road_models
from .incidents import cap_models, zone_models
from .incidents import models as incident_models
from .stock import models as stock_models
from .units import models as unit_models

metadata = Base.metadata

__all__ = ["Context", "Event", "auth_models", "dutylog_models", "facility_models",
           "geo_models", "incident_models", "metadata", "place_models", "stock_models",
           "unit_models"]
__all__ += ["cap_models", "road_models", "zone_models"]
