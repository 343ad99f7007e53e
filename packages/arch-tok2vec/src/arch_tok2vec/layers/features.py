"""``spacy.FeatureExtractor.v1``: token attributes of Docs as uint64 arrays."""

from typing import Any, Callable, List, Sequence, Tuple, Union

from thinc.api import Model
from thinc.types import Ints2d

from ..attrs import intify_attr


def FeatureExtractor(columns: List[Union[int, str]]) -> Model[List[Any], List[Ints2d]]:
    """Extract token attributes from each Doc (or Span) as a uint64 array.

    columns: The attributes, by name ("NORM") or id (67); column j of each output
        array holds ``columns[j]``.
    """
    if not columns:
        raise ValueError("columns must name at least one token attribute")
    for column in columns:
        intify_attr(column)
    return Model("extract_features", _forward, attrs={"columns": list(columns)})


def _forward(
    model: Model[List[Any], List[Ints2d]], docs: Sequence[Any], is_train: bool
) -> Tuple[List[Ints2d], Callable]:
    columns = model.attrs["columns"]
    features: List[Ints2d] = []
    for doc in docs:
        if hasattr(doc, "to_array"):
            values = doc.to_array(columns)
        else:
            values = doc.doc.to_array(columns)[doc.start : doc.end]
        if values.ndim == 1:
            values = values.reshape((-1, 1))
        features.append(model.ops.asarray2i(values, dtype="uint64"))

    def backprop(d_features: List[Ints2d]) -> List[Any]:
        return []

    return features, backprop
