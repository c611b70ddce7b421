"""Local history: SQLite in the user data directory, so a restarted board shows the whole day at once."""

from wallboard.store.history import BackgroundStoreWriter, History, HistoryStore, StoreError, StoreLockedError

__all__ = ["BackgroundStoreWriter", "History", "HistoryStore", "StoreError", "StoreLockedError"]
