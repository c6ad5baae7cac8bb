"""Files the user chose are replaced whole or not at all."""

from __future__ import annotations

from pathlib import Path

import pytest

from client.core.files import write_bytes_atomic


def test_replaces_the_file_whole(tmp_path: Path) -> None:
    target = tmp_path / "sub" / "報告.csv"
    write_bytes_atomic(target, b"old")
    write_bytes_atomic(target, "区分,項目,値\n".encode("utf-8-sig"))
    assert target.read_bytes().decode("utf-8-sig") == "区分,項目,値\n"
    assert sorted(p.name for p in target.parent.iterdir()) == ["報告.csv"]


def test_a_failed_write_keeps_the_old_file_and_leaves_nothing_behind(tmp_path: Path) -> None:
    target = tmp_path / "報告.csv"
    target.write_bytes(b"old")
    with pytest.raises(TypeError):
        write_bytes_atomic(target, "not bytes")  # type: ignore[arg-type]
    assert target.read_bytes() == b"old"
    assert [p.name for p in tmp_path.iterdir()] == ["報告.csv"]
