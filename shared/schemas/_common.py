"""What the data-folder schemas share: strict base model, name patterns, model-path checks."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict

from shared.errors import invalid
from shared.models.movement_notice import MovementNotice
from shared.schemas.paths import check_model_path

SLUG = r"^[a-z0-9][a-z0-9_-]*$"
FIELD_NAME = r"^[a-z_][a-z0-9_]*$"


class _Data(BaseModel):
    model_config = ConfigDict(extra="forbid")


#: The data models a template or layout can point into, by the name used in the files.
DATA_MODELS: dict[str, type[BaseModel]] = {"movement_notice": MovementNotice}


def _check_path(data_model: str, path: str) -> None:
    reason = check_model_path(DATA_MODELS[data_model], path)
    if reason is not None:
        raise invalid("template.bad_path", reason)
