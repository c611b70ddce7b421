"""`wallboard import`: another system's export (CSV, XLSX, NENA EIDO) to the recorded-feed format.

``mapping`` reads and validates the TOML mapping file, ``sources`` streams rows out of CSV and XLSX files, ``build``
turns rows into calls, incidents and unit timelines (several rows per record, revisions at each milestone) and
writes them with :class:`wallboard.feed.ndjson.FeedWriter`; ``eido`` reads NENA EIDO documents. docs/import.md is the
user's guide.
"""
