"""The `nir` dataset builder (Oulu-CASIA NIR)."""
