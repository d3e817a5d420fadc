"""Contingency plans as code: schema, loader, activation, readiness."""
