"""Layers of spaCy's text classifiers that thinc does not provide."""

from .ngrams import extract_ngrams

__all__ = ["extract_ngrams"]
