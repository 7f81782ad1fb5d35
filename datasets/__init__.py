"""TFDS builders, one folder per dataset; installed as the package `rjkeras.datasets`.

Import a builder as `rjkeras.datasets.<name>.<name>_dataset_builder` (or through
`rjkeras.data.registry.DATASETS`); nothing is imported here so that importing the package stays cheap.
"""
