"""The datasets rjkeras knows, by name, and their preparation on demand through their TFDS builders,
offline: already-prepared data is reused, never rebuilt or deleted.

TFDS writes into an `incomplete.*` folder and renames it only once every split is written, so an
interrupted build is never taken for a complete one: the next call builds again. Importing this
module is cheap (no TensorFlow): a builder is imported when it is first used.
"""

from __future__ import annotations

import contextlib
import fcntl
import importlib
import os

from absl import logging

from rjkeras.errors import UserError

# Registry: dataset name -> module holding its TFDS `Builder`, imported only when used.
# Adding a dataset is one line here.
DATASETS = {
    "synthetic_sprites": "rjkeras.datasets.synthetic_sprites.synthetic_sprites_dataset_builder",
    "sprites": "rjkeras.datasets.sprites.sprites_dataset_builder",
    "mug": "rjkeras.datasets.mug.mug_dataset_builder",
    "nir": "rjkeras.datasets.nir.nir_dataset_builder",
    "weizmann": "rjkeras.datasets.weizmann.weizmann_dataset_builder",
}


def check_name(name: str, flag: str | None = None) -> None:
    """UserError listing the valid names if `name` is not a registered dataset (prefixed by the
    flag that named it, if given); imports no builder, nor TensorFlow."""
    if name not in DATASETS:
        prefix = f"{flag}: " if flag else ""
        raise UserError(f"{prefix}unknown dataset {name!r}; choose one of: {', '.join(sorted(DATASETS))}")


def builder_class(name: str) -> type:
    """The TFDS builder class registered under `name`; UserError listing the valid names."""
    check_name(name)
    return importlib.import_module(DATASETS[name]).Builder


def config_names(name: str) -> list[str]:
    """Names of the builder configs of dataset `name` (empty if it has none)."""
    return [config.name for config in builder_class(name).BUILDER_CONFIGS]


def get_builder(name: str, *, data_dir: str | None = None, config: str | None = None):
    """An (unprepared or prepared) builder; UserError for an unknown name or config."""
    cls = builder_class(name)
    names = config_names(name)
    if config is not None and config not in names:
        valid = ", ".join(names) if names else "none (omit --config)"
        raise UserError(f"unknown config {config!r} of dataset {name!r}; choose one of: {valid}")
    return cls(data_dir=data_dir, config=config)


def prepare(name: str, *, data_dir: str | None = None, manual_dir: str | None = None,
            config: str | None = None):
    """Builds dataset `name` unless already prepared; returns its `tfds.core.DatasetBuilder`.

    Args:
      name: a key of `DATASETS`.
      data_dir: where prepared datasets live; None: TFDS's default ($TFDS_DATA_DIR or
        ~/tensorflow_datasets).
      manual_dir: raw files of datasets that cannot be downloaded (e.g. sprites); None: TFDS's
        default `<data_dir>/downloads/manual`.
      config: a builder config name; None: the builder's default.
    """
    builder = get_builder(name, data_dir=data_dir, config=config)
    if is_prepared(builder):
        return builder
    with _build_lock(builder, name):
        # Another process (a second worker of a multi-worker run) may have built it meanwhile.
        builder = get_builder(name, data_dir=data_dir, config=config)
        _build(builder, name, manual_dir)
    return builder


@contextlib.contextmanager
def _build_lock(builder, name: str):
    """An exclusive lock beside the dataset's folder: concurrent builds of one dataset into one
    data_dir (two workers on one machine or a shared disk) take turns instead of colliding."""
    lock_path = str(builder.data_path) + ".lock"
    os.makedirs(os.path.dirname(lock_path), exist_ok=True)
    with open(lock_path, "a") as lock:
        try:
            fcntl.flock(lock, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            logging.warning("waiting for another process preparing %s (%s)", name, lock_path)
            fcntl.flock(lock, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(lock, fcntl.LOCK_UN)


# TFDS orders a split's examples by a hash of their keys before writing them: in memory up to 1 GB
# of (compressed) examples, beyond that through 1000 temporary files on disk, a part at a time.
# rjkeras keeps at most this much in memory; the files written are the same either way.
SHUFFLE_MEMORY_BYTES = 64 << 20


@contextlib.contextmanager
def _shuffle_memory(limit: int):
    """Lowers TFDS's in-memory shuffle buffer (`tfds.core.shuffle.MAX_MEM_BUFFER_SIZE`) to `limit`
    bytes during a build (left as it is by a TFDS without it)."""
    from tensorflow_datasets.core import shuffle  # pylint: disable=g-import-not-at-top

    saved = getattr(shuffle, "MAX_MEM_BUFFER_SIZE", None)
    if saved is None:
        yield
        return
    shuffle.MAX_MEM_BUFFER_SIZE = min(saved, limit)
    try:
        yield
    finally:
        shuffle.MAX_MEM_BUFFER_SIZE = saved


def _build(builder, name: str, manual_dir: str | None) -> None:
    """Runs `download_and_prepare` offline unless `builder` is prepared already."""
    import tensorflow_datasets as tfds  # pylint: disable=g-import-not-at-top

    if is_prepared(builder):
        return
    if builder.data_path.exists():
        # TFDS renames its temporary folder only once a build is complete, so this one was made
        # by hand or damaged afterwards; TFDS would refuse to overwrite it, and we never delete data.
        raise UserError(f"{builder.data_path} exists but holds no complete dataset (no dataset_info.json); "
                        "delete it to build again")
    download_config = tfds.download.DownloadConfig(
        manual_dir=manual_dir,
        try_download_gcs=False,  # offline: never look for a hosted copy
    )
    try:
        with _shuffle_memory(SHUFFLE_MEMORY_BYTES):
            builder.download_and_prepare(download_config=download_config)
    except UserError as e:
        # Point at the flag only when no folder was given: a bad file inside a given folder is
        # named by the builder's own message.
        if builder.MANUAL_DOWNLOAD_INSTRUCTIONS and manual_dir is None and "--manual_dir" not in str(e):
            raise UserError(f"{e}; pass --manual_dir=DIR with the {name} files") from None
        raise


def is_prepared(builder) -> bool:
    """Whether `builder`'s data is complete (TFDS's check, without its warning for absent folders)."""
    return builder.data_path.exists() and builder.is_prepared()


def describe(builder) -> str:
    """One line: where the data is and how many examples each split holds."""
    sizes = ", ".join(f"{split}: {info.num_examples}" for split, info in sorted(builder.info.splits.items()))
    return f"{builder.info.full_name} in {builder.data_dir} ({sizes})"
