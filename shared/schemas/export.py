"""Write the JSON Schema of each data-folder schema to ``shared/schemas/json/<name>.schema.json``.

    python -m shared.schemas.export          # write
    python -m shared.schemas.export --check  # exit 1 if a committed file is out of date

Editors use these files to complete and check the YAML in ``form_templates/`` and ``device_profiles/``.
"""

from __future__ import annotations

import json
import sys
from collections.abc import Sequence
from pathlib import Path

from shared.schemas.registry import EXPORTED

JSON_DIR = Path(__file__).parent / "json"


def render() -> dict[str, str]:
    """File name → JSON text of every exported schema."""
    out: dict[str, str] = {}
    for name, model in EXPORTED.items():
        schema = model.model_json_schema()
        schema = {
            "$schema": "https://json-schema.org/draft/2020-12/schema",
            "$id": f"{name}.schema.json",
            **schema,
        }
        out[f"{name}.schema.json"] = json.dumps(schema, ensure_ascii=False, indent=2, sort_keys=False) + "\n"
    return out


def main(argv: Sequence[str] | None = None) -> int:
    args = list(sys.argv[1:] if argv is None else argv)
    rendered = render()
    if "--check" in args:
        stale = [
            n
            for n, text in rendered.items()
            if not (JSON_DIR / n).is_file() or (JSON_DIR / n).read_text("utf-8") != text
        ]
        for n in stale:
            print(f"{JSON_DIR / n}: 古くなっています。python -m shared.schemas.export で更新してください。")
        return 1 if stale else 0
    JSON_DIR.mkdir(exist_ok=True)
    for n, text in rendered.items():
        (JSON_DIR / n).write_text(text, encoding="utf-8")
        print(f"wrote {JSON_DIR / n}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
