"""The `synthetic_sprites` dataset builder."""
