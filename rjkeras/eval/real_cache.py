"""The real videos' features, computed once: a cache keyed by everything that changes them.

FVD and judge_fd compare the features of generated videos with those of the same real videos,
whatever the model: computing the real side again for every model (and every repeat) is most of
an evaluation's time at the paper's 624 videos. The features (not only their mean and covariance:
the kernel distance needs them) are kept in an `.npz` per metric, under a key of

    the metric and its extractor: I3D's or the judge's weights, by a hash of their files;
    the real set: dataset, builder config, split and its stored size, number of videos, their
    length, the sampling seed, the frame size they are resized to, and FVD's short-video policy.

By default the files live in `<cache_dir>/real_features/<metric>-<hash of the key>.npz`
(`--cache_dir`, default `$XDG_CACHE_HOME/rjkeras` or `~/.cache/rjkeras`); `--real_stats=FILE`
names one file instead, which holds one entry per metric: an entry whose key differs from the
evaluation's is refused, never overwritten.
"""

from __future__ import annotations

import functools
import hashlib
import json
import logging
import os
from typing import Callable

import numpy as np

from rjkeras.errors import UserError

log = logging.getLogger("rjkeras")
FORMAT = 1


def default_cache_dir() -> str:
    base = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
    return os.path.join(base, "rjkeras")


@functools.lru_cache(maxsize=None)
def files_hash(path: str) -> str:
    """sha256 of a file, or of a folder's files (relative paths and contents, in sorted order)."""
    digest = hashlib.sha256()
    path = os.path.abspath(os.path.expanduser(path))
    if os.path.isfile(path):
        files = [(os.path.basename(path), path)]
    else:
        files = sorted((os.path.relpath(os.path.join(root, name), path), os.path.join(root, name))
                       for root, _, names in os.walk(path) for name in names)
    for relative, full in files:
        digest.update(relative.encode() + b"\0")
        with open(full, "rb") as f:
            for block in iter(lambda: f.read(1 << 20), b""):
                digest.update(block)
    return digest.hexdigest()


def _key_hash(key: dict) -> str:
    return hashlib.sha256(json.dumps(key, sort_keys=True).encode()).hexdigest()[:16]


def _read(path: str) -> dict:
    """{metric: (key, features)} of a cache file; UserError for one that is not."""
    try:
        with np.load(path, allow_pickle=False) as f:
            metrics = [name[:-len("_key")] for name in f.files if name.endswith("_key")]
            return {m: (json.loads(str(f[f"{m}_key"])), np.asarray(f[f"{m}_features"])) for m in metrics}
    except (OSError, ValueError, KeyError) as e:
        raise UserError(f"{path} is not a real-features file of rjkeras.evaluate ({e}); delete it or "
                        "name another --real_stats") from None


def _write(path: str, entries: dict) -> None:
    os.makedirs(os.path.dirname(os.path.abspath(path)), exist_ok=True)
    arrays = {}
    for metric, (key, features) in entries.items():
        arrays[f"{metric}_key"] = np.asarray(json.dumps(key, sort_keys=True))
        arrays[f"{metric}_features"] = features
    tmp = path + ".tmp.npz"
    np.savez(tmp, **arrays)
    os.replace(tmp, path)  # never a half-written cache file


def real_features(metric: str, key: dict, compute: Callable[[], np.ndarray], *, path: str | None = None,
                  cache_dir: str | None = None) -> tuple[np.ndarray, dict]:
    """The real features of `metric` under `key`: read from the cache, or computed and kept.

    Returns:
      (features, {"file": the cache file, "reused": whether it was read, "key": the key}).
    """
    key = {"format": FORMAT, "metric": metric, **key}
    if path is None:
        folder = os.path.join(cache_dir or default_cache_dir(), "real_features")
        path = os.path.join(folder, f"{metric}-{_key_hash(key)}.npz")
    entries = _read(path) if os.path.exists(path) else {}
    if metric in entries:
        cached_key, features = entries[metric]
        if cached_key == key:
            log.info("%s: real features reused from %s (%d videos)", metric, path, len(features))
            return features, {"file": path, "reused": True, "key": key}
        changed = sorted(k for k in set(key) | set(cached_key) if key.get(k) != cached_key.get(k))
        raise UserError(f"--real_stats={path} holds {metric} features of another protocol (differs in "
                        f"{', '.join(changed)}); name another file, or delete it to compute them again")
    features = np.asarray(compute(), np.float32)
    entries[metric] = (key, features)
    try:
        _write(path, entries)
    except OSError as e:
        raise UserError(f"cannot write the real features to {path}: {e.strerror}") from None
    log.info("%s: real features computed and kept in %s", metric, path)
    return features, {"file": path, "reused": False, "key": key}
