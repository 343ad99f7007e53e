"""The span getters, with spacy-transformers' boundary behaviour."""

import pytest

from arch_tok2vec import Doc, registry
from arch_transformers import doc_spans, sent_spans, strided_spans


def bounds(spans):
    return [(span.start, span.end) for span in spans]


def strided(n, window, stride):
    doc = Doc([f"w{i}" for i in range(n)])
    return bounds(strided_spans(window, stride)([doc])[0])


@pytest.mark.parametrize(
    "n,window,stride,expected",
    [
        (0, 4, 2, []),  # empty doc: no spans
        (3, 4, 4, [(0, 3)]),  # shorter than stride: the whole doc
        (1, 1, 1, [(0, 1)]),
        (4, 4, 4, [(0, 4)]),  # exactly one window
        (4, 4, 2, [(0, 4)]),  # first window reaches the end: stop
        (6, 4, 2, [(0, 4), (2, 6)]),  # last window ends exactly at the end
        (7, 4, 2, [(0, 4), (2, 6), (4, 7)]),  # last window clipped by the doc end
        (10, 4, 3, [(0, 4), (3, 7), (6, 10)]),
        (10, 4, 4, [(0, 4), (4, 8), (8, 10)]),  # loop completes: the rest is one span
        (5, 2, 2, [(0, 2), (2, 4), (4, 5)]),
        (8, 3, 2, [(0, 3), (2, 5), (4, 7), (6, 8)]),
        (5, 5, 2, [(0, 5)]),
    ],
)
def test_strided_spans_boundaries(n, window, stride, expected):
    assert strided(n, window, stride) == expected


def test_strided_spans_cover_every_token_when_stride_le_window():
    for n in range(0, 25):
        for window in range(1, 7):
            for stride in range(1, window + 1):
                covered = {
                    i for start, end in strided(n, window, stride) for i in range(start, end)
                }
                assert covered == set(range(n)), (n, window, stride)


@pytest.mark.parametrize(
    "window,stride,message",
    [
        (0, 1, "window must be a positive integer"),
        (4, 0, "stride must be a positive integer"),
        (2, 3, r"stride \(3\) must not exceed window \(2\)"),
        (2.5, 1, "window must be an integer"),
        (True, 1, "window must be an integer"),
    ],
)
def test_strided_spans_validated(window, stride, message):
    with pytest.raises(ValueError, match=message):
        strided_spans(window, stride)


def test_strided_spans_per_doc():
    docs = [Doc(["a", "b", "c"]), Doc([]), Doc(["d"])]
    assert [bounds(s) for s in strided_spans(2, 2)(docs)] == [[(0, 2), (2, 3)], [], [(0, 1)]]


def test_sent_spans():
    doc = Doc(["A", "b", ".", "C", "d", "."], sent_starts=[1, 0, 0, 1, 0, 0])
    assert [bounds(s) for s in sent_spans()([doc, Doc([]), Doc(["x"])])] == [
        [(0, 3), (3, 6)],
        [],
        [(0, 1)],
    ]


def test_doc_spans():
    assert [bounds(s) for s in doc_spans()([Doc(["a", "b"]), Doc([])])] == [[(0, 2)], [(0, 0)]]


@pytest.mark.parametrize("prefix", ["", "spacy-transformers."])
def test_registered_under_seed_and_released_names(prefix):
    getter = registry.span_getters.get(f"{prefix}strided_spans.v1")(window=3, stride=2)
    assert bounds(getter([Doc(list("abcde"))])[0]) == [(0, 3), (2, 5)]
    assert bounds(registry.span_getters.get(f"{prefix}doc_spans.v1")()([Doc(["a"])])[0]) == [(0, 1)]
    assert registry.span_getters.get(f"{prefix}sent_spans.v1")()([Doc([])]) == [[]]
