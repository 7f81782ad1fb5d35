"""The `sprites` dataset builder."""
