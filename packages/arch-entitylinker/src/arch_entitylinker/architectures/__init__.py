"""The entity linker architecture: a function that composes layers into a Model."""
