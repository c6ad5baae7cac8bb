"""国籍・地域: ISO 3166-1 countries with Japanese names.

Data: ``data/countries.tsv``, generated from pycountry 26.2.16 (ISO 3166-1 and the Japanese
translations of Debian iso-codes, LGPL-2.1-or-later) by ``_build/generate_countries.py``, with the
printed name overridden where the 在留カード writes it differently (韓国, 台湾 …; see
``_build/country_overrides.tsv``) and extra searchable names in ``_build/country_aliases.tsv``.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache
from importlib import resources

from shared.codes._tables import lookup_key, read_tsv
from shared.errors import InvalidInput


@dataclass(frozen=True)
class Country:
    alpha_2: str
    alpha_3: str
    numeric: str
    name_ja: str  # printed 国籍・地域
    iso_name_ja: str
    name_en: str


@cache
def all_countries() -> tuple[Country, ...]:
    """Every ISO 3166-1 country or area, ordered by alpha-2 code."""
    return tuple(Country(**row) for row in read_tsv("countries.tsv"))


@cache
def _by_code() -> dict[str, Country]:
    index: dict[str, Country] = {}
    for c in all_countries():
        index[c.alpha_2] = c
        index[c.alpha_3] = c
    return index


def _aliases() -> list[tuple[str, str]]:
    text = resources.files("shared.codes").joinpath("_build", "country_aliases.tsv").read_text("utf-8")
    pairs = []
    for line in text.splitlines():
        if line.strip() and not line.startswith("#"):
            alias, code = line.split("\t")[:2]
            pairs.append((alias, code))
    return pairs


@cache
def _by_name() -> dict[str, Country]:
    index: dict[str, Country] = {}
    for c in all_countries():
        index.setdefault(lookup_key(c.iso_name_ja), c)
        # "大韓民国 (韓国)": the part before the parenthesis is a name too
        index.setdefault(lookup_key(c.iso_name_ja.split("(")[0]), c)
    for alias, code in _aliases():
        index[lookup_key(alias)] = _by_code()[code]
    for c in all_countries():
        index[lookup_key(c.name_ja)] = c  # the printed name wins
    return index


def find_country(code: str) -> Country | None:
    """The country with this alpha-2 or alpha-3 code (any case, any width), else None."""
    return _by_code().get(lookup_key(code).upper())


def get_country(code: str) -> Country:
    """Like :func:`find_country` but raises :class:`InvalidInput` (``nationality.unknown``)."""
    country = find_country(code)
    if country is None:
        raise InvalidInput("国籍・地域のコードが一覧にありません。", code="nationality.unknown")
    return country


def find_country_by_name(name_ja: str) -> Country | None:
    """The country with this Japanese name (printed name, ISO translation or a listed alias)."""
    return _by_name().get(lookup_key(name_ja))
