"""Users, roles, API tokens, login and the one permission check."""
