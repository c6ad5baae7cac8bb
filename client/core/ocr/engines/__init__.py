"""OCR engines: base contract, registry, fake."""
