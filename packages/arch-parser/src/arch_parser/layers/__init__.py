"""The two layers of the parser model: the precomputable lower layer and the root."""
