"""wallboard: the live state of the Polri 110 emergency hotline on a command room's wall."""

__version__ = "0.1.0"
