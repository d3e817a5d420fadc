"""Liaison rosters (联络员值班) and tasks with acknowledgement and timed escalation."""
