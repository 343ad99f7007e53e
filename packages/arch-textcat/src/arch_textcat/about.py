"""Version of the arch-textcat distribution (read by hatch)."""

__version__ = "0.2.0"
