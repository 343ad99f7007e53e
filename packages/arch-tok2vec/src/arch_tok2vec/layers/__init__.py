"""Layers of spaCy's reference that thinc does not provide."""

from .charembed import CharEmbed
from .features import FeatureExtractor
from .static_vectors import StaticVectors

__all__ = ["CharEmbed", "FeatureExtractor", "StaticVectors"]
