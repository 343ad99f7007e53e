"""The error a model folder that fails a check on load raises (see ``model_files``)."""

from typing import Any, Optional


class ModelFileError(ValueError):
    """A model folder that fails a check on load; the message names the file and,
    where it applies, the key (JSON) or block (config).

    path: The file (or folder) at fault.
    message: What is wrong, and how to fix it where there is a fix.
    key: The JSON key at fault (dotted for nested keys), if any.
    block: The config block at fault, e.g. "model.tok2vec", if any.
    """

    def __init__(
        self, path: Any, message: str, key: Optional[str] = None, block: Optional[str] = None
    ):
        self.path = str(path)
        self.key = key
        self.block = block
        where = self.path
        if key is not None:
            where += f", key {key!r}"
        if block is not None:
            where += f", block [{block}]"
        super().__init__(f"{where}: {message}")
