"""Major-event medical cover (大型活动医疗保障): venues, sessions, standby ambulances, the
live venues layer, incidents tagged with their venue, and the daily situation report.

Not to be confused with ``coordination.coverage``, the service radius of health
centres and EMS stations: this package is about one event's venues and days.
"""
