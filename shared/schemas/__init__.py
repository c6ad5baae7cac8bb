"""Schemas of the data folders (``form_templates/``, ``device_profiles/``) as pydantic models."""
