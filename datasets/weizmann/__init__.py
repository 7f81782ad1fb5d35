"""The `weizmann` dataset builder (Weizmann Action)."""
