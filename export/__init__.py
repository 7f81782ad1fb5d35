"""Export of trained generators as SavedModels (installed as `rjkeras.export`)."""
