"""OCR pipeline (next issue); for now the engine plugins."""
