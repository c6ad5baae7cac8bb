"""Supervisor (管理者) mode screens."""
