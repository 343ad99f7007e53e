"""Issue 16, point 4: a KB file (format version 2) mapped read-only answers exactly as
the KB in memory, refuses changes naming the call, is shared between processes, and
is refused with named errors when damaged; version 1 files and bytes still load."""

import base64
import json
import os
import pickle
import re
import struct
import subprocess
import sys
import textwrap
import zlib
from pathlib import Path

import numpy
import pytest

from arch_entitylinker import (
    KBFormatError,
    KnowledgeBase,
    ReadOnlyKBError,
    kb_format_v1,
    kb_format_v2,
)
from arch_entitylinker.kb_files import build_kb
from arch_entitylinker.kb_format import VERSION

FIXTURES = Path(__file__).parent / "fixtures"


@pytest.fixture(scope="module")
def gum(data_dir, tmp_path_factory):
    """The KB of GUM's alias table (every alias of the training mentions), in
    memory, and its file."""
    kb = build_kb(None, data_dir / "gum_entity_linking" / "aliases_train.tsv", 64)
    path = tmp_path_factory.mktemp("gum") / "kb.bin"
    kb.to_disk(path)
    return kb, path


def _answers(kb, aliases, entities):
    """Everything a KB says about these aliases and entities."""
    return {
        "sizes": (len(kb), kb.get_size_entities(), kb.get_size_aliases(), kb.is_empty()),
        "width": kb.entity_vector_length,
        "entities": kb.get_entity_strings(),
        "aliases": kb.get_alias_strings(),
        "vectors": kb.vectors.tobytes(),
        "candidates": [
            [
                (c.entity_, c.alias_, c.prior_prob, c.entity_freq, c.entity_vector.tobytes())
                for c in kb.get_candidates(alias)
            ]
            for alias in aliases
        ],
        "rows": [kb.candidate_rows(alias) for alias in aliases],
        "contains": [kb.contains_alias(a) for a in aliases]
        + [kb.contains_entity(e) for e in entities],
        "entity_rows": [kb.entity_row(e) for e in entities],
        "freqs": [kb.get_freq(e) for e in entities],
        "vector_of": [kb.get_vector(e).tobytes() for e in entities],
        "vectors_of": kb.get_vectors(entities).tobytes(),
        "priors": [kb.get_prior_prob(e, a) for a in aliases[:300] for e in entities[:40]],
    }


def test_a_mapped_kb_answers_as_the_kb_in_memory(gum):
    kb, path = gum
    mapped = KnowledgeBase.load(path, mmap=True)
    assert mapped.read_only and not kb.read_only
    unknown = ["", "emerson", "Emerson ", "Zürich 😀", "\ud800", "Q"]
    aliases = kb.get_alias_strings() + unknown
    entities = kb.get_entity_strings() + ["Q0", "", "nobody"]
    expected = _answers(kb, aliases, entities)
    assert _answers(mapped, aliases, entities) == expected
    assert _answers(KnowledgeBase.load(path), aliases, entities) == expected
    assert len(expected["aliases"]) > 4000 and sum(len(c) > 1 for c in expected["candidates"])
    assert mapped.to_bytes() == kb.to_bytes() == path.read_bytes()
    assert mapped.get_candidates_batch(["Canada", "nobody"])[0][0].entity_ == (
        kb.get_candidates("Canada")[0].entity_
    )
    with pytest.raises(TypeError, match="get_alias_candidates needs a string"):
        mapped.get_alias_candidates(None)


def test_every_lookup_is_confirmed_by_the_string(gum, monkeypatch):
    """Keys may collide: with every string given the same key, lookups still find
    each alias and entity by its text, and nothing else."""
    kb, path = gum
    monkeypatch.setattr(kb_format_v2, "string_hash", lambda data: 7 << 32)
    folder = path.parent / "collisions"
    folder.mkdir(exist_ok=True)
    kb.to_disk(folder / "kb.bin")
    mapped = KnowledgeBase.load(folder / "kb.bin", mmap=True)
    aliases = kb.get_alias_strings()[::97] + ["nobody"]
    entities = kb.get_entity_strings()[::89] + ["Q0"]
    assert [mapped.candidate_rows(a) for a in aliases] == [kb.candidate_rows(a) for a in aliases]
    assert [mapped.entity_row(e) for e in entities] == [kb.entity_row(e) for e in entities]


def test_a_mapped_kb_refuses_changes_naming_the_call(gum):
    _, path = gum
    mapped = KnowledgeBase.load(path, mmap=True)
    before = mapped.to_bytes()
    entity = mapped.get_entity_strings()[0]
    alias = mapped.get_alias_strings()[0]
    calls = {
        "add_entity": lambda: mapped.add_entity("Q_new", 1, [0.0] * 64),
        "set_entities": lambda: mapped.set_entities(["Q_new"], [1], [[0.0] * 64]),
        "add_alias": lambda: mapped.add_alias("new alias", [entity], [0.5]),
        "append_alias": lambda: mapped.append_alias(alias, entity, 0.0),
        "from_bytes": lambda: mapped.from_bytes(before),
        "from_disk": lambda: mapped.from_disk(path),
    }
    for name, call in calls.items():
        with pytest.raises(ReadOnlyKBError, match=rf"^{name}: this KnowledgeBase is mapped "):
            call()
    with pytest.raises(ValueError, match="read-only"):
        mapped.vectors[0, 0] = 1.0
    assert mapped.to_bytes() == before
    # a copy in memory can change, and saves as a file that maps
    copy = KnowledgeBase.load(path)
    copy.add_entity("Q_new", 1, [0.5] * 64)
    copy.to_disk(path.parent / "changed.bin")
    assert KnowledgeBase.load(path.parent / "changed.bin", mmap=True).contains_entity("Q_new")


def test_a_mapped_kb_saves_and_pickles_as_its_file(gum, tmp_path):
    kb, path = gum
    mapped = KnowledgeBase.load(path, mmap=True, verify=False)
    mapped.to_disk(tmp_path / "again.bin")
    assert (tmp_path / "again.bin").read_bytes() == path.read_bytes()
    again = pickle.loads(pickle.dumps(mapped))
    assert again.read_only and again.mapped_file.path == path
    assert again.get_alias_strings() == kb.get_alias_strings()
    # the file replaced in between: refused, not silently another KB
    copy = tmp_path / "copy.bin"
    copy.write_bytes(path.read_bytes())
    sent = pickle.dumps(KnowledgeBase.load(copy, mmap=True))
    os.replace(tmp_path / "again.bin", copy)
    with pytest.raises(KBFormatError, match="replaced or changed since"):
        pickle.loads(sent)
    # a KB in memory pickles as before
    assert pickle.loads(pickle.dumps(kb)).to_bytes() == kb.to_bytes()


def test_version_1_files_and_bytes_still_load(gum, tmp_path):
    kb, _ = gum
    old = kb_format_v1.dump_bytes(kb._export())
    assert struct.unpack_from("<I", old, 8) == (1,)
    from_bytes = KnowledgeBase(3).from_bytes(old)
    path = tmp_path / "v1.bin"
    path.write_bytes(old)
    from_disk = KnowledgeBase.load(path)
    for loaded in (from_bytes, from_disk):
        assert not loaded.read_only
        assert loaded.to_bytes() == kb.to_bytes()  # saved again as version 2
    with pytest.raises(KBFormatError, match=r"v1.bin: KB format version 1 cannot be mapped.*"):
        KnowledgeBase.load(path, mmap=True)
    # the bytes 0.3.2 wrote into a model's task.json
    saved = json.loads((FIXTURES / "old_model" / "task.json").read_text())
    data = base64.b64decode(saved["kb"])
    assert struct.unpack_from("<I", data, 8) == (1,)
    assert kb_format_v1.dump_bytes(KnowledgeBase(1).from_bytes(data)._export()) == data


# -- damaged files ---------------------------------------------------------------------


def _loads(path):
    """Every way to open a KB file: in memory, mapped and verified, mapped alone."""
    return {
        "memory": lambda: KnowledgeBase.load(path),
        "mapped+verify": lambda: KnowledgeBase.load(path, mmap=True),
        "mapped": lambda: KnowledgeBase.load(path, mmap=True, verify=False),
    }


def _refused(path, pattern, ways=("memory", "mapped+verify", "mapped")):
    """Each way of opening ``path`` raises KBFormatError naming it, matching ``pattern``."""
    for way in ways:
        with pytest.raises(KBFormatError, match=rf"^{re.escape(str(path))}: {pattern}"):
            _loads(path)[way]()


def _resealed(data: bytearray) -> bytes:
    """A damaged file's header and trailer checksums recomputed, as a crafted file's."""
    struct.pack_into("<I", data, 60, zlib.crc32(bytes(data[:60])))
    struct.pack_into("<I", data, len(data) - 4, zlib.crc32(bytes(data[:-4])))
    return bytes(data)


def _section(kb, name):
    header = kb_format_v2.parse_header(kb.to_bytes()[:64], len(kb.to_bytes()), "")
    return next(s for s in kb_format_v2.layout(header)[0] if s.name == name)


def test_truncated_newer_and_foreign_files_are_refused(kb, tmp_path):
    data = kb.to_bytes()
    assert struct.unpack_from("<I", data, 8) == (VERSION,) == (2,)
    path = tmp_path / "kb.bin"
    for cut in (len(data) - 1, len(data) - 4, len(data) // 2, 64, 63, 40, 12, 11, 8, 3, 0):
        path.write_bytes(data[:cut])
        _refused(path, "(truncated|not a KB file, or truncated)")
    path.write_bytes(data + b"\0")
    _refused(path, "1 unexpected bytes after the end of the KB")
    path.write_bytes(b"x" * 200)
    _refused(path, "not a KB file")
    newer = bytearray(data)
    struct.pack_into("<I", newer, 8, VERSION + 1)
    path.write_bytes(bytes(newer[:40]))
    _refused(path, f"KB format version {VERSION + 1} is newer than .* reads \\(up to {VERSION}\\)")


def test_a_damaged_header_is_refused_before_its_sizes_are_used(kb, tmp_path):
    path = tmp_path / "kb.bin"
    for offset in (12, 16, 24, 40, 56, 60):
        data = bytearray(kb.to_bytes())
        data[offset] ^= 0x01
        path.write_bytes(bytes(data))
        _refused(path, "the KB file's header is corrupted")


def test_a_damaged_body_is_refused(kb, tmp_path):
    """Any changed byte of the body: the checksum (in memory, or mapped with verify);
    a mapped open without verify catches what breaks the tables and leaves the rest
    to verify()."""
    data = kb.to_bytes()
    path = tmp_path / "kb.bin"
    vectors = _section(kb, "vectors")
    for offset in range(64, len(data) - 4, 7):
        damaged = bytearray(data)
        damaged[offset] ^= 0x10
        path.write_bytes(bytes(damaged))
        _refused(path, r"the KB file is corrupted \(checksum", ("memory", "mapped+verify"))
        try:
            mapped = KnowledgeBase.load(path, mmap=True, verify=False)
        except KBFormatError as err:
            assert str(err).startswith(f"{path}: "), str(err)
            continue
        with pytest.raises(KBFormatError, match="the KB file is corrupted"):
            mapped.verify()
    # a changed vector is found by the checksum alone
    damaged = bytearray(data)
    damaged[vectors.offset + 5] ^= 0x10
    path.write_bytes(bytes(damaged))
    KnowledgeBase.load(path, mmap=True, verify=False)


@pytest.mark.parametrize(
    "section,change,message",
    [
        ("entity_offsets", lambda a: a.__setitem__(1, a[2]), "the entity offsets do not rise"),
        ("alias_offsets", lambda a: a.__setitem__(-1, a[-1] - 1), "the alias offsets do not rise"),
        ("alias_starts", lambda a: a.__setitem__(1, 99), "the candidate counts do not add up"),
        ("pair_entities", lambda a: a.__setitem__(0, 3), "a candidate points past the 3"),
        (
            "entity_keys",
            lambda a: a.__setitem__(0, 2**64 - 1),
            "the entity lookup table is not sorted",
        ),
        ("alias_order", lambda a: a.__setitem__(0, 2), "the alias lookup table points past the 2"),
        ("entity_buckets", lambda a: a.__setitem__(-1, 9), "the entity lookup table's buckets"),
    ],
)
def test_crafted_tables_are_refused_naming_what_is_wrong(kb, tmp_path, section, change, message):
    """With both checksums recomputed (a crafted file), tables that would send a lookup
    outside the file are refused when the file is opened, however it is opened."""
    where = _section(kb, section)
    data = bytearray(kb.to_bytes())
    table = numpy.frombuffer(data, dtype=where.dtype, count=where.count, offset=where.offset)
    table = table.copy()
    change(table)
    data[where.offset : where.offset + where.nbytes] = table.tobytes()
    path = tmp_path / "kb.bin"
    path.write_bytes(_resealed(data))
    ways = ("mapped+verify", "mapped") + (("memory",) if "lookup" not in message else ())
    _refused(path, message, ways)


def test_crafted_strings_are_refused_by_verify(kb, tmp_path):
    """Repeated IDs and broken UTF-8 need every string read: the load into memory and
    a verified mapped open refuse them; a mapped open leaves them to verify() (and a
    broken string read from it is refused when it is read)."""
    path = tmp_path / "kb.bin"
    tables = kb._export()
    tables.entity_ids = ["Q1", "Q2", "Q1"]  # written as the writer would, keys and all
    path.write_bytes(kb_format_v2.dump_bytes(tables))
    _refused(path, "repeated entity IDs", ("memory", "mapped+verify"))
    mapped = KnowledgeBase.load(path, mmap=True, verify=False)
    with pytest.raises(KBFormatError, match="repeated entity IDs"):
        mapped.verify()
    data = bytearray(kb.to_bytes())
    data[_section(kb, "alias_text").offset + 1] = 0xFF  # "d\xffuglas"
    path.write_bytes(_resealed(data))
    _refused(path, "an alias string is not valid UTF-8", ("memory", "mapped+verify"))
    mapped = KnowledgeBase.load(path, mmap=True, verify=False)
    with pytest.raises(KBFormatError, match="alias string 0 is not valid UTF-8"):
        mapped.get_alias_strings()
    with pytest.raises(KBFormatError, match="an alias string is not valid UTF-8"):
        mapped.verify()


# -- sharing ---------------------------------------------------------------------------

SMAPS_CHILD = """
import sys, time
from arch_entitylinker import KnowledgeBase
kb = KnowledgeBase.load(sys.argv[1], mmap=True)  # verify reads every page
print("ready", flush=True)
sys.stdin.readline()
"""


def _mapping(pid: int, path: Path) -> dict:
    """The smaps fields (kB) of the mapping of ``path`` in process ``pid``."""
    fields: dict = {}
    inside = False
    for line in Path(f"/proc/{pid}/smaps").read_text().splitlines():
        head = line.split()
        if head and "-" in head[0] and len(head) >= 5 and not head[0].endswith(":"):
            inside = line.endswith(str(path))
        elif inside and head[0].endswith(":") and len(head) >= 2 and head[1].isdigit():
            fields[head[0][:-1]] = fields.get(head[0][:-1], 0) + int(head[1])
    return fields


@pytest.mark.skipif(not Path("/proc/self/smaps").exists(), reason="needs Linux's smaps")
def test_two_processes_share_the_pages_of_a_mapped_kb(tmp_path):
    """Two processes map the same 26 MB KB file and read all of it: its pages are in
    each one's resident set once, shared, not copied into either."""
    n, width = 50_000, 128
    kb = KnowledgeBase(width)
    rng = numpy.random.default_rng(0)
    ids = [f"Q{i}" for i in range(n)]
    kb.set_entities(ids, numpy.ones(n), rng.standard_normal((n, width), dtype=numpy.float32))
    for i in range(0, n, 5):
        kb.add_alias(f"alias {i}", [ids[i]], [1.0])
    path = tmp_path / "kb.bin"
    kb.to_disk(path)
    size_kb = path.stat().st_size // 1024
    children = [
        subprocess.Popen(
            [sys.executable, "-c", textwrap.dedent(SMAPS_CHILD), str(path)],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            text=True,
        )
        for _ in range(2)
    ]
    try:
        for child in children:
            assert child.stdout.readline().strip() == "ready"
        maps = [_mapping(child.pid, path) for child in children]
    finally:
        for child in children:
            child.communicate("done\n", timeout=60)
    for fields in maps:
        assert fields["Rss"] >= 0.95 * size_kb, fields  # every page read...
        # ...and shared (dirty while the file just written is not yet on disk)
        assert fields["Shared_Clean"] + fields["Shared_Dirty"] >= 0.95 * size_kb, fields
        assert fields["Private_Clean"] + fields["Private_Dirty"] == 0, fields
        assert fields["Pss"] <= 0.55 * size_kb, fields  # each process counts half
