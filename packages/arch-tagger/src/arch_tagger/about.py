"""Version of the arch-tagger distribution (read by hatch)."""

__version__ = "0.2.0"
