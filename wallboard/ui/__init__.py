"""Widgets, the map and the kiosk. Renders core snapshots; never does I/O on the GUI thread."""
