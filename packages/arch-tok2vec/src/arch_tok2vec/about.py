"""Version of the arch-tok2vec distribution (read by hatch)."""

__version__ = "0.2.0"
