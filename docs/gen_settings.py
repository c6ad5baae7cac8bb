"""Write docs/settings.md from the server's and the client's settings classes.

.venv/bin/python docs/gen_settings.py
"""

from __future__ import annotations

import importlib
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from shared.settings_doc import render_class  # noqa: E402

#: (title, "module:Class", environment prefix) of every settings class in the project.
SETTINGS_CLASSES = (
    ("サーバー (server)", "server.config:Settings", "MADOGUCHI_"),
    ("窓口クライアント (client)", "client.app.settings:ClientSettings", "MADOGUCHI_CLIENT_"),
)
DOC_PATH = ROOT / "docs" / "settings.md"


def render_all() -> str:
    parts = [
        "# 設定一覧 (settings)",
        "",
        "Generated from the settings classes' field docstrings by `python docs/gen_settings.py`;"
        " do not edit by hand. Lists (networks) are JSON in the environment.",
        "",
    ]
    for title, target, prefix in SETTINGS_CLASSES:
        module, cls_name = target.split(":")
        parts.append(render_class(title, getattr(importlib.import_module(module), cls_name), prefix))
    return "\n".join(parts)


if __name__ == "__main__":
    DOC_PATH.write_text(render_all(), encoding="utf-8")
    print(f"{DOC_PATH.relative_to(ROOT)} を書き出しました。")
