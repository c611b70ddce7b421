"""The domain and the metrics: plain Python, no Qt, no I/O. Everything else depends on this package."""
