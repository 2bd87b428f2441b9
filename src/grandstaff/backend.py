"""The one place keras is imported (forced onto the JAX backend), and JAX's compilation cache."""

from __future__ import annotations

import os
from pathlib import Path


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


def default_compilation_cache() -> Path:
    """Where the CLI keeps JAX's compiled programs: ``$XDG_CACHE_HOME/grandstaff/jax``
    (``~/.cache/grandstaff/jax`` when XDG_CACHE_HOME is unset)."""
    base = os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache"
    return Path(base) / "grandstaff" / "jax"


def use_compilation_cache(folder: str | os.PathLike) -> bool:
    """Keep JAX's compiled programs in ``folder``, so that later runs skip compiling.

    Loading a model set compiles its weight initialisers and composing compiles the sampling
    loop: seconds on every cold start that the cache saves from the second run on (about 1 MB
    per model set; delete the folder at any time). Returns False (and changes nothing) if the
    folder cannot be created or written.

    >>> use_compilation_cache("/tmp/grandstaff-jax-cache")     # doctest: +SKIP
    True
    """
    folder = Path(folder).expanduser()
    try:
        folder.mkdir(parents=True, exist_ok=True)
        probe = folder / ".writable"
        probe.write_bytes(b"")
        probe.unlink()
    except OSError:
        return False
    import jax

    jax.config.update("jax_compilation_cache_dir", str(folder))
    jax.config.update("jax_persistent_cache_min_compile_time_secs", 0.0)
    jax.config.update("jax_persistent_cache_min_entry_size_bytes", 0)
    return True


def join_hosts() -> int:
    """Join the other processes of a multi-host run (``jax.distributed.initialize`` through
    ``keras.distribution.initialize``), which read where and who they are from the environment:
    ``KERAS_DISTRIBUTION_JOB_ADDRESSES`` (the coordinator's ``host:port``, or every host's, comma
    separated), ``KERAS_DISTRIBUTION_NUM_PROCESSES`` and ``KERAS_DISTRIBUTION_PROCESS_ID``.
    CPUs talk through Gloo. Returns how many processes joined.
    """
    from .errors import BadArgumentError

    missing = [name for name in ("KERAS_DISTRIBUTION_JOB_ADDRESSES",
                                 "KERAS_DISTRIBUTION_NUM_PROCESSES",
                                 "KERAS_DISTRIBUTION_PROCESS_ID") if not os.environ.get(name)]
    if missing:
        raise BadArgumentError(
            f"a multi-host run needs {', '.join(missing)} set on every host (the coordinator's "
            "host:port, the number of processes, and this process's number from 0)")
    import jax

    jax.config.update("jax_cpu_collectives_implementation", "gloo")
    keras().distribution.initialize()
    return jax.process_count()
