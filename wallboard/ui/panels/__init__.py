"""The board's panels. Each renders a BoardSnapshot (``update_snapshot``) and scales with ``set_scale(unit)``."""
