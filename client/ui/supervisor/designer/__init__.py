"""テンプレート設計 (supervisor): make an OCR template from a sample scan."""

from .widget import TemplateDesigner

__all__ = ["TemplateDesigner"]
