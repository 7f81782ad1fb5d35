"""The `mug` dataset builder (and `raw_videos`, shared with `nir` and `weizmann`)."""
