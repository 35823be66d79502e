"""Where numba keeps the compiled kernels: one cache directory per version of their source.

numba checks a cached kernel against its own source file only, so a kernel compiled
with an older version of a function it calls from another module would be reused
(stale machine code). Every kernel module imports this one first; it caches the
package's kernels in a directory named after a digest of all the kernel modules'
sources (and of the modules whose constants they read, :data:`READ_BY_KERNELS`), so any
change to any of them compiles everything afresh.

The directory is ``numba-<digest>`` under ``$NUMBA_CACHE_DIR`` if set, else under the
package's ``__pycache__`` if writable, else under ``~/.cache/coopsim``. Inside it the
cache does not depend on where the package lives (numba's own locators name a
subdirectory after the source's absolute path): a clone, an installed wheel and a
cluster's shared environment with the same kernel sources load the same machine code
from a shared ``$NUMBA_CACHE_DIR``. numba still keys each entry by its version and the
CPU it was compiled for. Other numba code in the process is cached as numba decides.
"""

from __future__ import annotations

import hashlib
import os
from pathlib import Path

from numba import njit as _numba_njit
from numba.core import caching, config
from numba.core.compiler import Compiler

PACKAGE = Path(__file__).resolve().parent


#: Modules whose constants (or, for e-evidence, rules) the kernels compile in, besides
#: the kernel modules themselves.
READ_BY_KERNELS = ("units.py", "eevidence_rules.py")


def source_digest() -> str:
    """A digest of every kernel module's source (``kernel_*.py``) and of :data:`READ_BY_KERNELS`."""
    digest = hashlib.sha256()
    for path in sorted(PACKAGE.glob("kernel_*.py")) + [PACKAGE / n for n in READ_BY_KERNELS]:
        digest.update(path.name.encode())
        digest.update(path.read_bytes())
    return digest.hexdigest()[:16]


def cache_dir() -> Path:
    """The directory compiled kernels of this source are cached in."""
    user = os.environ.get("NUMBA_CACHE_DIR")
    if user:
        base = Path(user)
    elif os.access(PACKAGE, os.W_OK):
        base = PACKAGE / "__pycache__"
    else:
        base = Path.home() / ".cache" / "coopsim"
    return base / f"numba-{source_digest()}"


CACHE_DIR = cache_dir()


def active_cache_dir() -> Path:
    """Where this process caches and loads the compiled kernels."""
    return CACHE_DIR


class KernelCacheLocator(caching.UserProvidedCacheLocator):
    """numba's cache locator for this package's kernels: :data:`CACHE_DIR`, path-free.

    Entries are still checked against a hash of their source file's content (numba's
    source stamp); only the directory no longer encodes the file's absolute path.
    """

    def get_cache_path(self) -> str:
        """The directory of this source's kernels."""
        return str(CACHE_DIR)

    @classmethod
    def from_function(cls, py_func, py_file):
        """A locator for a kernel of this package, else None (numba's locators decide)."""
        if Path(py_file).resolve().parent != PACKAGE:
            return None
        # The source-file locator's checks, without the parent's "is NUMBA_CACHE_DIR set?".
        return super(caching.UserProvidedCacheLocator, cls).from_function(py_func, py_file)


if KernelCacheLocator not in caching.CacheImpl._locator_classes:
    caching.CacheImpl._locator_classes.insert(0, KernelCacheLocator)


# LLVM's optimisation level for the package's kernels. At numba's default (3) LLVM's
# passes took 25-27 s of the 41-48 s compile on an empty cache; at 1 they take 20-23 s
# (benchmarks/compile_profile.py, interleaved), and runs are as fast: a day's cost is
# mostly its Python calls (docs/compiled_pipeline.md). Results do not change: without
# fast-math LLVM keeps IEEE arithmetic at every level (benchmarks/identity.py).
# ``NUMBA_OPT`` in the environment, if set, wins for what that process compiles (the
# cache does not record the level: compare levels with separate ``NUMBA_CACHE_DIR``s).
KERNEL_OPT_LEVEL = 1


class KernelCompiler(Compiler):
    """numba's compiler with :data:`KERNEL_OPT_LEVEL` for the kernels it compiles.

    numba reads the level from its global config while it optimises; it is set for
    this compile only (a kernel's callees are compiled inside it, by this class too)
    and restored after, so other numba code in the process keeps its own.
    """

    opt_level = KERNEL_OPT_LEVEL

    def _compile_core(self):
        if "NUMBA_OPT" in os.environ:
            return super()._compile_core()
        saved = config.OPT
        config.OPT = config._OptLevel(self.opt_level)
        try:
            return super()._compile_core()
        finally:
            config.OPT = saved


class ColdKernelCompiler(KernelCompiler):
    """:class:`KernelCompiler` without LLVM's optimisation, for kernels called once a run."""

    opt_level = 0


def njit(*args, cold: bool = False, **options):
    """The ``njit`` of numba, with :class:`KernelCompiler`: the decorator of every kernel.

    Args:
        *args: numba's (the function, or a signature).
        cold: The kernel runs once a run or so (building a struct): compiled without
            LLVM's optimisation (:class:`ColdKernelCompiler`), as its speed never shows.
        **options: numba's (``cache=True``, ``inline="always"``).
    """
    pipeline = ColdKernelCompiler if cold else KernelCompiler
    return _numba_njit(*args, pipeline_class=pipeline, **options)
