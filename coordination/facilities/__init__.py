"""Facilities: fever clinics, triage and isolation points, hospitals, their capacity reports."""
