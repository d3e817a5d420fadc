"""The audit view over the event log: every change, who, when, in which context."""
