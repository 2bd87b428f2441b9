"""The one place keras is imported: it is forced onto the JAX backend before its first import."""

from __future__ import annotations

import os


def keras():
    """The keras module, on the JAX backend.

    Keras reads ``KERAS_BACKEND`` once, at its first import; grandstaff sets it here, and every
    module that needs keras goes through this function.
    """
    os.environ["KERAS_BACKEND"] = "jax"
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
    import keras as _keras

    if _keras.backend.backend() != "jax":
        from .errors import GrandstaffError

        raise GrandstaffError(
            f"keras was imported on the {_keras.backend.backend()} backend before grandstaff "
            "could choose JAX; set KERAS_BACKEND=jax or import grandstaff first"
        )
    return _keras
