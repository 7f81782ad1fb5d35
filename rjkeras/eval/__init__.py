"""Evaluation: FVD (I3D), the judge classifier (Inception Score, a Frechet distance in its
feature space) and disentanglement scores (paper sections 5.1-5.3); `rjkeras.evaluate` runs them."""
