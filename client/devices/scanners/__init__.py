"""Scanners (スキャナー): produce page images for OCR."""
