"""Imports every model so the metadata is complete (for Alembic and tests)."""

from __future__ import annotations

from .alerts import models as alert_models
from .auth import models as auth_models
from .contexts import Context
from .db import Base
from .drills import models as drill_models
from .dutylog import models as dutylog_models
from .events import Event
from .facilities import models as facility_models
from .geo import models as geo_models
from .geo import places as place_models
from .geo import road_models
from .incident_reports import models as incident_report_models
from .incidents import cap_models, patient_models, zone_models
from .incidents import models as incident_models
from .jobs import models as job_models
from .plans import models as plan_models
from .roster import models as roster_models
from .roster import positions as position_models
from .roster import sms_inbound as sms_models
from .stock import import_keys as stock_import_keys
from .stock import models as stock_models
from .units import models as unit_models

metadata = Base.metadata

__all__ = ["Context", "Event", "alert_models", "auth_models", "cap_models", "drill_models",
           "dutylog_models",
           "facility_models", "geo_models", "incident_models", "incident_report_models",
           "job_models", "metadata", "patient_models", "place_models",
           "plan_models", "position_models", "road_models", "roster_models", "sms_models",
           "stock_import_keys",
           "stock_models",
           "unit_models", "zone_models"]
