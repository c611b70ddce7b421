"""The live feed: API client, validation, sync, freshness, record/replay. Depends on core only (and Qt for the hub)."""
