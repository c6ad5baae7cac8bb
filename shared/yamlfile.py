"""YAML data files read with libyaml's safe loader when PyYAML has it (about 40× faster than the pure
Python one on the 900+ template files), else with the pure-Python safe loader. Never the full loader."""

from __future__ import annotations

from typing import Any

import yaml

SafeLoader: type[yaml.SafeLoader] = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


def load_yaml(text: str) -> Any:
    """The data of one YAML document (``None`` for an empty one), safe tags only."""
    return yaml.load(text, Loader=SafeLoader)  # noqa: S506 - a safe loader
