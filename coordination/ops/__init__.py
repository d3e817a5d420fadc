"""The command room's one operational picture: its panels and its search (issue 13)."""
