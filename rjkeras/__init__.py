"""rjkeras: residual-vector video generation models (Dandi et al., WACV 2020) in TensorFlow/Keras.

Importing the package is cheap; TensorFlow is imported by the modules that need it.
"""

__version__ = "0.1.0"
