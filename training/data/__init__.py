"""Training data: the official layouts' readers, each method's datasets and the synthetic-dataset generator.

They live in :mod:`vton_zoo.data` so that evaluation (``python -m vton_zoo.eval``) reads the same layouts without
importing ``training``; this package is the training-side name for them.
"""

from vton_zoo.data import *  # noqa: F401,F403
from vton_zoo.data import __all__  # noqa: F401
