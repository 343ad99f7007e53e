"""The function registries, filled from entry points.

Names are looked up in the same catalogue namespaces spaCy uses, so a function
declared under the entry-point group ``spacy_architectures`` by any installed
distribution is found here and by spaCy alike. Nothing is registered by
importing a module of ours: installing the distribution is what makes its names
resolvable.
"""

from typing import Any, Callable, Dict, List, Sequence

import catalogue
from thinc.api import registry as thinc_registry

from .families import UnknownNameError, registry_names
from .suggest import did_you_mean


class _Registry(catalogue.Registry):
    """A catalogue registry that also reads an arch-only entry-point group.

    Names declared there resolve through ``arch_tok2vec.registry`` but stay
    invisible to spaCy, which reads only the ``spacy_*`` group: that is where a
    family declares a name it provides but that is not a drop-in for the
    function of the same name in spaCy or its plugins (so installing arch
    cannot change what spaCy builds). The spaCy group is searched first.
    """

    def __init__(self, namespace: Sequence[str], arch_group: str):
        super().__init__(namespace, entry_points=True)
        self.arch_group = arch_group

    def _get_entry_points(self) -> List[Any]:
        found = list(super()._get_entry_points())
        if hasattr(catalogue.AVAILABLE_ENTRY_POINTS, "select"):
            found += list(catalogue.AVAILABLE_ENTRY_POINTS.select(group=self.arch_group))
        else:  # pragma: no cover (Python < 3.10)
            found += list(catalogue.AVAILABLE_ENTRY_POINTS.get(self.arch_group, []))
        return found


class registry(thinc_registry):
    """thinc's registry plus spaCy's model registries and arch's own.

    ``registry.resolve(config)`` builds every ``@architectures``, ``@layers``,
    ``@assets``, ``@misc``, ``@span_getters`` and ``@batchers`` block of a config.
    """

    architectures = _Registry(("spacy", "architectures"), "arch_architectures")
    assets = catalogue.create("spacy", "assets", entry_points=True)
    misc = catalogue.create("spacy", "misc", entry_points=True)
    span_getters = _Registry(("spacy", "span_getters"), "arch_span_getters")
    batchers = _Registry(("spacy", "batchers"), "arch_batchers")
    tasks = catalogue.create("arch", "tasks", entry_points=True)
    readers = catalogue.create("arch", "readers", entry_points=True)

    @classmethod
    def get(cls, registry_name: str, func_name: str) -> Callable:
        """The function registered as ``func_name`` in ``registry_name``; an unknown
        name raises ``catalogue.RegistryError`` saying which distribution provides
        it or which registered names are close (instead of listing every name).

        registry_name: The registry ("architectures", "layers", "tasks", ...).
        func_name: The registered name.
        """
        if not isinstance(getattr(cls, registry_name, None), catalogue.Registry):
            raise catalogue.RegistryError(
                f"there is no registry {registry_name!r} (@{registry_name})."
                + did_you_mean(registry_name, registry_names())
            )
        try:
            return super().get(registry_name, func_name)
        except catalogue.RegistryError:
            raise UnknownNameError(registry_name, func_name) from None


REGISTRY_GROUPS = {
    "architectures": "spacy_architectures",
    "assets": "spacy_assets",
    "misc": "spacy_misc",
    "span_getters": "spacy_span_getters",
    "batchers": "spacy_batchers",
    "layers": "thinc_layers",
    "tasks": "arch_tasks",
    "readers": "arch_readers",
}
"""Each registry this package reads, with the entry-point group that fills it
(the group spaCy reads too)."""

ARCH_ONLY_GROUPS = {
    "architectures": "arch_architectures",
    "span_getters": "arch_span_getters",
    "batchers": "arch_batchers",
}
"""Registries that also read a group spaCy does not: for names we provide that
are not drop-ins for a spaCy plugin's function of the same name."""

ENTRY_POINT_GROUPS: Dict[str, str] = {
    **{group: name for name, group in REGISTRY_GROUPS.items()},
    **{group: name for name, group in ARCH_ONLY_GROUPS.items()},
}
"""Every entry-point group we read, with the registry it fills."""
