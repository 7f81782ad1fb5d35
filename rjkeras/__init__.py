"""rjkeras: residual-vector video generation models (Dandi et al., WACV 2020) in TensorFlow/Keras.

Importing the package is cheap; TensorFlow is imported by the modules that need it. It sets
TF_ENABLE_ONEDNN_OPTS=1 (oneDNN's CPU kernels) unless already set, which takes effect only if
TensorFlow is imported after rjkeras: otherwise it warns (`rjkeras.runtime.prefer_onednn`).
"""

from rjkeras import runtime as _runtime

_runtime.prefer_onednn()

__version__ = "0.1.0"
