"""Version of the arch-parser distribution (read by hatch)."""

__version__ = "0.1.0"
