"""Local history: SQLite in the user data directory, so a restarted board shows the whole day at once."""
