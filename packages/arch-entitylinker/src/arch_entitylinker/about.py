"""Version of the arch-entitylinker distribution (read by hatch)."""

__version__ = "0.4.0"
