"""Ambulances and other units: status codes, status history, position reports."""
