"""The function registries, filled from entry points.

Names are looked up in the same catalogue namespaces spaCy uses, so a function
declared under the entry-point group ``spacy_architectures`` by any installed
distribution is found here and by spaCy alike. Nothing is registered by
importing a module of ours: installing the distribution is what makes its names
resolvable.
"""

import catalogue
from thinc.api import registry as thinc_registry


class registry(thinc_registry):
    """thinc's registry plus spaCy's model registries and arch's own.

    ``registry.resolve(config)`` builds every ``@architectures``, ``@layers``,
    ``@assets``, ``@misc`` and ``@span_getters`` block of a config.
    """

    architectures = catalogue.create("spacy", "architectures", entry_points=True)
    assets = catalogue.create("spacy", "assets", entry_points=True)
    misc = catalogue.create("spacy", "misc", entry_points=True)
    span_getters = catalogue.create("spacy", "span_getters", entry_points=True)
    tasks = catalogue.create("arch", "tasks", entry_points=True)
    readers = catalogue.create("arch", "readers", entry_points=True)


REGISTRY_GROUPS = {
    "architectures": "spacy_architectures",
    "assets": "spacy_assets",
    "misc": "spacy_misc",
    "span_getters": "spacy_span_getters",
    "layers": "thinc_layers",
    "tasks": "arch_tasks",
    "readers": "arch_readers",
}
"""Each registry this package reads, with the entry-point group that fills it."""
