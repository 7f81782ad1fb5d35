"""Bounds on what one call of an exported signature may ask for (`rjkeras.export.module` checks
them in the graph), so that a typo cannot allocate the whole machine's memory. Apart from the
module so that a command line can check its flags against them before importing TensorFlow."""

MAX_VIDEOS = 1024  # num_videos, num_images, steps
MAX_LENGTH = 1024  # frames per video
