"""Which schema validates which data folder, and which field must equal the file name."""

from __future__ import annotations

from dataclasses import dataclass

from pydantic import BaseModel

from shared.schemas.device_profiles import DeviceProfile, StationProfile
from shared.schemas.form_templates import EformProcedure, OcrTemplate, PrintLayout


@dataclass(frozen=True)
class FolderSchema:
    """The schema of every file under ``<root>/<folder>/``."""

    root: str  # form_templates or device_profiles
    folder: str  # ocr, print, eforms, scanners, …
    model: type[BaseModel]
    id_field: str | None  # this field must equal the file name (without extension)
    family: str | None = None  # for device folders: the DeviceProfile.family of the folder
    depth: int = 1  # how many folders below <folder> a file sits (ocr: doc_type/issuer = 2)

    @property
    def json_name(self) -> str:
        return f"{self.model.__name__}"


FOLDERS: tuple[FolderSchema, ...] = (
    FolderSchema("form_templates", "ocr", OcrTemplate, "version", depth=3),
    FolderSchema("form_templates", "print", PrintLayout, "id"),
    FolderSchema("form_templates", "eforms", EformProcedure, "slug"),
    FolderSchema("device_profiles", "scanners", DeviceProfile, "id", family="scanner"),
    FolderSchema("device_profiles", "printers", DeviceProfile, "id", family="printer"),
    FolderSchema("device_profiles", "card_readers", DeviceProfile, "id", family="card_reader"),
    FolderSchema("device_profiles", "biometric", DeviceProfile, "id", family="biometric"),
    FolderSchema("device_profiles", "stations", StationProfile, "id"),
)

#: One JSON Schema file per model (``shared/schemas/json/<name>.schema.json``).
EXPORTED: dict[str, type[BaseModel]] = {
    "ocr_template": OcrTemplate,
    "print_layout": PrintLayout,
    "eform_procedure": EformProcedure,
    "device_profile": DeviceProfile,
    "station_profile": StationProfile,
}
