"""Background jobs: work too big for a request (a 50,000-row import) queued in the database."""
