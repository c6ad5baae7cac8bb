"""Kiosk (キオスク) mode screens."""
