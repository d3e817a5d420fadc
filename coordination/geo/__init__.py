"""Geography: administrative areas now; CRS, nearest, zones and coverage as they land."""
