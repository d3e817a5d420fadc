"""Drills: scripted scenarios run at speed in their own context, and what they show."""
