"""Reusable widgets: labelled fields with an error line, 和暦 date fields, address blocks."""
