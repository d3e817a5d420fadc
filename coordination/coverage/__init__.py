"""The planners' coverage view: service radii of township health centres and EMS stations."""
