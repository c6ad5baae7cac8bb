"""Biometric readers (生体認証): operator confirmation by fingerprint or vein."""
