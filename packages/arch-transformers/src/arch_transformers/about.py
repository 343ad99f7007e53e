"""Version of the arch-transformers distribution (read by hatch)."""

__version__ = "0.3.0"
