"""Blob stores: where archived PDFs live (filesystem by default, S3-compatible, in-memory fake).

The database holds each blob's key and SHA-256; the store only holds bytes. ``open_store(settings)``
builds the configured one (``MADOGUCHI_BLOB_STORE``).
"""

from __future__ import annotations

from server.plugins.blobstore.base import BlobMissing, BlobStore, open_store, registry

__all__ = ["BlobMissing", "BlobStore", "open_store", "registry"]
