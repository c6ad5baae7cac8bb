"""続柄 (relationship to the householder) as the 住民記録システム標準仕様書 writes it.

Source: 住民記録システム標準仕様書 機能要件 続柄 (transcribed in ``jyuki-stnd`` ``doc/j110.txt``):

- single terms: 世帯主, 夫, 妻, 夫（未届）, 妻（未届）, 子, 父, 母, 兄, 姉, 弟, 妹, 縁故者, 同居人;
- other relatives are written as a chain joined with 「の」 (子の妻, 父の母, 妻の子, 子の子) up to
  four generations away from the householder (子の子の子の子); five or more generations are 縁故者;
- words such as 孫, 祖父, 甥, 嫁, 長男 are not used: the chain form is required, and the error
  message says which chain to write instead.
"""

from __future__ import annotations

import unicodedata

from shared.errors import InvalidInput

STANDALONE = ("世帯主", "縁故者", "同居人")
KIN = ("夫", "妻", "子", "父", "母", "兄", "姉", "弟", "妹")
UNREGISTERED = ("夫（未届）", "妻（未届）")
#: How many generations each link moves (down is positive).
_GENERATION = {"子": 1, "父": -1, "母": -1}
MAX_GENERATIONS = 4
MAX_LINKS = 6

#: Words the standard disallows, with the chain to write instead.
DISALLOWED = {
    "孫": "子の子",
    "ひ孫": "子の子の子",
    "曾孫": "子の子の子",
    "祖父": "父の父 または 母の父",
    "祖母": "父の母 または 母の母",
    "甥": "兄の子 など",
    "姪": "姉の子 など",
    "叔父": "父の弟 など",
    "伯父": "父の兄 など",
    "叔母": "父の妹 など",
    "伯母": "父の姉 など",
    "嫁": "子の妻",
    "婿": "子の夫",
    "義父": "妻の父 または 夫の父",
    "義母": "妻の母 または 夫の母",
    "長男": "子",
    "長女": "子",
    "次男": "子",
    "次女": "子",
    "養子": "子",
    "養父": "父",
    "養母": "母",
    "兄弟": "兄 または 弟",
    "姉妹": "姉 または 妹",
    "配偶者": "夫 または 妻",
    "本人": "世帯主",
}


def normalize_relationship(text: str) -> str:
    """Return the 続柄 in its standard spelling, or raise :class:`InvalidInput` saying why."""
    s = unicodedata.normalize("NFKC", text).strip().replace(" ", "").replace("\u3000", "")
    # NFKC turns （未届） into (未届); the standard writes full-width parentheses.
    s = s.replace("(", "（").replace(")", "）")
    if not s:
        raise InvalidInput("続柄を入力してください。", code="relationship.empty")
    if s in STANDALONE or s in UNREGISTERED or s in KIN:
        return s
    if s in DISALLOWED:
        raise InvalidInput(
            f"続柄「{s}」は使えません。「{DISALLOWED[s]}」のように「の」でつないで記載してください。",
            code="relationship.disallowed",
        )
    links = s.split("の")
    if any(link in DISALLOWED for link in links):
        bad = next(link for link in links if link in DISALLOWED)
        raise InvalidInput(
            f"続柄に「{bad}」は使えません。「{DISALLOWED[bad]}」のように記載してください。",
            code="relationship.disallowed",
        )
    if any(link not in KIN for link in links):
        raise InvalidInput(
            f"続柄「{s}」は標準の表記ではありません。世帯主・夫・妻・子・父・母・兄・姉・弟・妹を"
            "「の」でつなぐか、縁故者・同居人としてください。",
            code="relationship.unknown",
        )
    if len(links) > MAX_LINKS:
        raise InvalidInput("続柄が長すぎます。縁故者としてください。", code="relationship.too_long")
    generation = 0
    furthest = 0
    for link in links:
        generation += _GENERATION.get(link, 0)
        furthest = max(furthest, abs(generation))
    if furthest > MAX_GENERATIONS:
        raise InvalidInput(
            "5世代以上離れる続柄は「縁故者」として記載してください。", code="relationship.too_far"
        )
    return s
