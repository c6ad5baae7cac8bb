"""Schemas of ``device_profiles/``: devices and station presets.

A *station profile* (``device_profiles/stations/<id>.yaml``) says which modes a terminal offers
and which plugin each device family uses there. Plugin ids refer to the client's registries
(``client/devices/*/registry.py``, ``client/core/ocr``).
"""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from shared.api import StationMode


class _Data(BaseModel):
    model_config = ConfigDict(extra="forbid")


class StationProfile(_Data):
    """A counter, supervisor or kiosk station preset."""

    id: str = Field(pattern=r"^[a-z0-9][a-z0-9_-]*$", description="file name without .yaml")
    label: str = Field(description="表示名")
    modes: list[StationMode] = Field(min_length=1, description="この端末で使えるモード")
    default_mode: StationMode
    scanner: str = Field("fake", description="scanner plugin id")
    printer: str = Field("fake", description="printer plugin id")
    card_reader: str = Field("fake", description="card reader plugin id")
    biometric: str | None = Field(None, description="biometric reader plugin id")
    ocr_engine: str = Field(
        "routed",
        description="OCR: `routed` = the engine per field type from client/core/ocr/routing.yaml; "
        "an engine plugin id = every field read by that engine",
    )
    full_screen: bool = Field(False, description="キオスク端末は全画面")
    settings: dict[str, Any] = Field(default_factory=dict, description="plugin settings by family")


class DeviceProfile(_Data):
    """A device model: which plugin drives it and with which settings."""

    id: str = Field(pattern=r"^[a-z0-9][a-z0-9_-]*$")
    family: str = Field(pattern=r"^(scanner|printer|card_reader|biometric)$")
    label: str
    plugin: str
    settings: dict[str, Any] = Field(default_factory=dict)
    notes: str | None = None
