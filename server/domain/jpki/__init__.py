"""JPKI (公的個人認証) signatures of online applications: canonical bytes, verification, storage."""
