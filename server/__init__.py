"""Madoguchi server: Litestar application, database, jobs and CLI."""
