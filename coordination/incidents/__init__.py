"""Incidents: logging, lifecycle, dispatch, timeline, close contacts, epidemic zones."""
