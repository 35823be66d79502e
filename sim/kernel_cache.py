"""Where numba keeps the compiled kernels: one cache directory per version of their source.

numba checks a cached kernel against its own source file only, so a kernel compiled
with an older version of a function it calls from another module would be reused
(stale machine code). Every kernel module imports this one first; it points numba's
cache at a directory named after a digest of all the kernel modules' sources, so any
change to any of them compiles everything afresh.

The directory is ``numba-<digest>`` under ``$NUMBA_CACHE_DIR`` if set, else under the
package's ``__pycache__`` if writable, else under ``~/.cache/coopsim``.
"""

from __future__ import annotations

import hashlib
import os
from pathlib import Path

import numba

PACKAGE = Path(__file__).resolve().parent


def source_digest() -> str:
    """A digest of every kernel module's source (the modules named ``kernel_*.py``)."""
    digest = hashlib.sha256()
    for path in sorted(PACKAGE.glob("kernel_*.py")):
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


def active_cache_dir() -> Path:
    """Where numba is caching compiled kernels now."""
    return Path(numba.config.CACHE_DIR)


numba.config.CACHE_DIR = str(cache_dir())
