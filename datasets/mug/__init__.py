"""The `mug` dataset builder."""
