"""Alerts: one list of what needs a person in the command room now (issue 13)."""
