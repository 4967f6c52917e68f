"""The one table of sizes (tests/cases/sizes.json), which the C# tests also run, against the
Python door: ``pool_size=`` and ``$DEISA_POOL_SIZE`` both go to the core's one parser; every
size the table accepts means what Dask's own parse_bytes says it means."""

import json
from pathlib import Path

import pytest
from dask.utils import parse_bytes

from deisa import Deisa

CASES = json.loads((Path(__file__).resolve().parents[1] / "cases" / "sizes.json").read_text())["sizes"]


@pytest.mark.parametrize("case", CASES, ids=[c["text"] for c in CASES])
def test_pool_size_reads_the_table(case):
    if "bytes" in case:
        assert Deisa(pool_size=case["text"]).pool_bytes == case["bytes"]
        return
    with pytest.raises(ValueError) as e:
        Deisa(pool_size=case["text"])
    for word in case["error"] + ["pool_size"]:
        assert word in str(e.value), str(e.value)


@pytest.mark.parametrize("case", CASES, ids=[c["text"] for c in CASES])
def test_deisa_pool_size_reads_the_table(case, monkeypatch):
    monkeypatch.setenv("DEISA_POOL_SIZE", case["text"])
    if "bytes" in case:
        assert Deisa().pool_bytes == case["bytes"]
        return
    with pytest.raises(ValueError) as e:
        Deisa()
    for word in case["error"] + ["DEISA_POOL_SIZE"]:
        assert word in str(e.value), str(e.value)


@pytest.mark.parametrize("case", [c for c in CASES if "bytes" in c], ids=[c["text"] for c in CASES if "bytes" in c])
def test_the_table_is_dask_s_reading(case):
    assert parse_bytes(case["text"]) == case["bytes"]


def test_numbers_are_bytes(monkeypatch):
    assert Deisa(pool_size=1 << 20).pool_bytes == 1 << 20
    assert Deisa(pool_size=2.5e6).pool_bytes == 2_500_000
    monkeypatch.delenv("DEISA_POOL_SIZE", raising=False)
    assert Deisa().pool_bytes == 0  # no size: the core picks its default
    with pytest.raises(ValueError, match="positive"):
        Deisa(pool_size=0)
    with pytest.raises(TypeError):
        Deisa(pool_size=True)
