"""Counter (窓口) mode screens."""
