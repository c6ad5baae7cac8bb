"""続柄 as the 住民記録システム標準仕様書 writes it: accepted spellings and rejected words."""

from __future__ import annotations

import pytest

from shared.codes.relationship import normalize_relationship
from shared.errors import InvalidInput

ACCEPT = [
    ("世帯主", "世帯主"),
    ("妻", "妻"),
    ("夫（未届）", "夫（未届）"),
    ("妻(未届)", "妻（未届）"),
    ("子", "子"),
    ("子の妻", "子の妻"),
    ("子の子", "子の子"),
    ("子の子の子の子", "子の子の子の子"),
    ("父の母", "父の母"),
    ("妻の子", "妻の子"),
    ("兄の子", "兄の子"),
    ("縁故者", "縁故者"),
    ("同居人", "同居人"),
    (" 子　の 妻 ", "子の妻"),
]

REJECT = [
    ("孫", "relationship.disallowed"),
    ("祖父", "relationship.disallowed"),
    ("甥", "relationship.disallowed"),
    ("嫁", "relationship.disallowed"),
    ("長男", "relationship.disallowed"),
    ("子の子の子の子の子", "relationship.too_far"),
    ("おじ", "relationship.unknown"),
    ("", "relationship.empty"),
    ("　", "relationship.empty"),
    ("子の孫", "relationship.disallowed"),
    ("子の子の子の子の子の子の子", "relationship.too_long"),
]


@pytest.mark.parametrize(("text", "expected"), ACCEPT)
def test_accepted(text: str, expected: str) -> None:
    """Standard 続柄 (and chains up to four generations) are accepted in their standard spelling."""
    assert normalize_relationship(text) == expected


@pytest.mark.parametrize(("text", "code"), REJECT)
def test_rejected(text: str, code: str) -> None:
    """Words the standard disallows, chains of five generations and empty input fail with their code."""
    with pytest.raises(InvalidInput) as exc:
        normalize_relationship(text)
    assert exc.value.error_code == code
    assert any("\u3040" <= ch <= "\u9fff" for ch in exc.value.message)


def test_disallowed_message_names_the_chain() -> None:
    """The message for 孫 tells the clerk to write 子の子."""
    with pytest.raises(InvalidInput) as exc:
        normalize_relationship("孫")
    assert "子の子" in exc.value.message
