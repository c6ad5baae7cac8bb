"""``sandbox``: a few fictitious corporations (demo); every other valid number is "not found"."""

from __future__ import annotations

from server.plugins.corporate.base import CorporateLookup, Corporation, registry
from shared.text.checkdigit import corporate_number_check_digit


def _number(base: str) -> str:
    return f"{corporate_number_check_digit(base)}{base}"


#: Fictitious corporations (the numbers have valid check digits but belong to nobody we know).
CORPORATIONS = {
    c.number: c
    for c in (
        Corporation(
            number=_number("050001000001"),
            name="株式会社しもつま見本商事",
            address="茨城県下妻市本城町二丁目22番地",
            postal_code="3048501",
            furigana="シモツマミホンショウジ",
        ),
        Corporation(
            number=_number("050001000002"),
            name="一般社団法人まどぐち見本協会",
            address="茨城県下妻市下妻乙124番地",
            postal_code="3040067",
            furigana="マドグチミホンキョウカイ",
        ),
        Corporation(
            number=_number("050001000003"),
            name="合同会社閉鎖見本",
            address="茨城県下妻市大宝1番地",
            postal_code="3040031",
            closed=True,
        ),
    )
}


@registry.register
class SandboxLookup(CorporateLookup):
    plugin_id = "sandbox"
    label = "サンドボックス（架空の法人）"
    is_fake = True

    async def lookup(self, number: str) -> Corporation | None:
        return CORPORATIONS.get(number)
