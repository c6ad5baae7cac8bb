"""Madoguchi counter client: PySide6 desktop application."""
