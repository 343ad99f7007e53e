"""Version of the arch-parser distribution (read by hatch)."""

__version__ = "0.3.0"
