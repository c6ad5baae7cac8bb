"""Madoguchi shared package: models, code tables and pure functions used by client and server."""
