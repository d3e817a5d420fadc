"""The command room's duty log (值班日志): notes, instructions, reports and handovers."""
