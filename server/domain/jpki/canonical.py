"""The canonical bytes of an application: what a resident's JPKI signature covers.

Format ``madoguchi-eform-sign/1``: one JSON object, UTF-8, keys sorted (by code point), no
insignificant whitespace, non-ASCII characters written as themselves — the output of
``json.dumps(obj, ensure_ascii=False, sort_keys=True, separators=(",", ":"))``. Form values are
only strings, integers, booleans, lists and objects, for which this equals RFC 8785 (JCS). Members:

- ``format``: ``"madoguchi-eform-sign/1"``;
- ``lg_code``, ``application`` (UUID), ``procedure`` (slug), ``title``;
- ``values``: the checked values of the form (what the confirmation page showed; hidden fields
  left out; dates ISO ``YYYY-MM-DD``);
- ``files``: per attachment ``{"field", "filename", "size", "sha256"}`` in field order, so the
  signature covers the files' contents without embedding them;
- ``my_numbers``: per 個人番号 field, the keyed hash stored for it (the number itself never leaves
  its encryption; the hash binds it).

Any change to the values, a file or a 個人番号 changes the bytes, so a signature made before the
change no longer verifies and the resident signs again.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from typing import Any, Protocol

FORMAT = "madoguchi-eform-sign/1"


class _File(Protocol):
    field: str
    filename: str
    size: int
    sha256: str


def canonical_bytes(
    *,
    lg_code: str,
    application: str,
    procedure: str,
    title: str,
    values: Mapping[str, Any],
    files: Sequence[_File],
    sealed: Mapping[str, Sequence[Any]],
) -> bytes:
    doc = {
        "format": FORMAT,
        "lg_code": lg_code,
        "application": application,
        "procedure": procedure,
        "title": title,
        "values": dict(values),
        "files": [
            {"field": f.field, "filename": f.filename, "size": f.size, "sha256": f.sha256}
            for f in sorted(files, key=lambda f: (f.field, f.sha256))
        ],
        "my_numbers": {path: str(item[2]) for path, item in sorted(sealed.items()) if len(item) > 2},
    }
    return json.dumps(doc, ensure_ascii=False, sort_keys=True, separators=(",", ":")).encode("utf-8")
