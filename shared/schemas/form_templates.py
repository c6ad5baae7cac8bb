"""Schemas of ``form_templates/``: OCR templates, print layouts and online-procedure forms.

- ``form_templates/ocr/<doc_type>/<issuer>/<version>.yaml`` — :class:`OcrTemplate`: where each
  field of one document type of one issuer in one layout version sits, how to read it, and which
  field of the 住民異動届 (:class:`shared.models.MovementNotice`) it fills.
- ``form_templates/print/<id>.yaml`` — :class:`PrintLayout`: a form or certificate on paper.
- ``form_templates/eforms/<slug>.yaml`` — :class:`EformProcedure`: a starter online procedure.

Coordinates: OCR boxes in pixels of the template's reference image; print positions in millimetres
from the top-left corner of the paper. These are first versions that later issues will extend.
"""

from shared.schemas._common import DATA_MODELS, FIELD_NAME, SLUG
from shared.schemas.eform import EformField, EformFieldType, EformProcedure, Option
from shared.schemas.ocr_template import (
    Anchor,
    Box,
    DocumentType,
    OcrTemplate,
    ReadingSettings,
    ReferenceImage,
    Zone,
    ZoneType,
)
from shared.schemas.print_layout import PAPER_MM, Font, PrintField, PrintLayout

__all__ = [
    "DATA_MODELS",
    "FIELD_NAME",
    "PAPER_MM",
    "SLUG",
    "Anchor",
    "Box",
    "DocumentType",
    "EformField",
    "EformFieldType",
    "EformProcedure",
    "Font",
    "OcrTemplate",
    "Option",
    "PrintField",
    "PrintLayout",
    "ReadingSettings",
    "ReferenceImage",
    "Zone",
    "ZoneType",
]
