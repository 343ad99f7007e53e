"""The parser architecture: a function that composes layers into a Model."""
