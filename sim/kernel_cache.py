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

import collections
import functools
import hashlib
import inspect
import os
import struct
import types as pytypes
from pathlib import Path

# Imported for what importing does: numba registers the C symbols its hashing of str
# and bytes links against, which its first refresh did (MachineCodeCache loads without).
import numba.cpython.hashing  # noqa: F401
from llvmlite import binding as llvm
from numba import njit as _numba_njit
from numba.core import caching, config
from numba.core.codegen import JITCodeLibrary
from numba.core.compiler import Compiler
from numba.core.compiler_lock import require_global_compiler_lock
from numba.core.registry import CPUDispatcher
from numba.core.runtime import rtsys

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


class MachineCodeCache(caching.FunctionCache):
    """numba's cache, loading machine code without first readying numba to compile.

    numba's ``load_overload`` refreshes the target context before each load; a
    process's first refresh imports numba's implementations of Python and numpy and
    installs their typing and lowering registries (0.1-0.2 s, more than loading every
    kernel a run calls), which only a compile reads. Loading compiled code needs the
    symbols it links against: numba's runtime (reference counting and allocation),
    which this load readies, and the hash secrets of ``numba.cpython.hashing``, which
    this module imports. A compile later in the process refreshes the context itself,
    as numba's compiler does before every compile. The method is numba's own
    (``numba.core.caching.FunctionCache.load_overload``, numba 0.68) with the refresh
    replaced; a test checks that numba's still reads as this one assumes.
    """

    def load_overload(self, sig, target_context):
        """Load as numba does, with the runtime readied instead of the whole context."""
        rtsys.initialize(target_context)
        with self._guard_against_spurious_io_errors():
            return self._load_overload(sig, target_context)

    def _load_overload(self, sig, target_context):
        """numba's, with the code library made a :class:`LoadedLibrary` (see there).

        numba loads under its compiler lock, so no other thread's library is made
        while the codegen's class is set for this load; a load inside this one (a
        module imported while the entry unpickles) finds it set and leaves it so.
        """
        require_global_compiler_lock()
        codegen = target_context.codegen()
        before = codegen.__dict__.get("_library_class")
        codegen._library_class = LoadedLibrary  # the instance's, over its class's
        try:
            return super()._load_overload(sig, target_context)
        finally:
            if before is None:
                del codegen._library_class


class LoadedLibrary(JITCodeLibrary):
    """A cached kernel's code, its bitcode for linking parsed only when a compile links it.

    numba keeps with each cached kernel its machine code and the LLVM bitcode a later
    compile would link into a kernel that calls it; loading parses that bitcode (0.10-0.12
    s of a fresh world-scale process, for eight kernels) to list the symbols the code
    defines, which numba's JIT engine must know before it looks one up. Here the
    symbols come from the machine code's own symbol table (:func:`defined_symbols`),
    and the bitcode is parsed when a compile asks for it (so a bitcode LLVM cannot read
    fails that compile, not the load). Machine code that is not an ELF object, or whose
    table cannot be read, loads as numba loads it. The load is numba's
    (``CPUCodeLibrary._unserialize``, numba 0.68) less the parse; a test checks that
    numba's still reads as this one assumes.
    """

    _linking_bitcode: bytes | None = None

    @classmethod
    def _unserialize(cls, codegen, state):
        name, kind, data = state
        symbols = defined_symbols(data[0]) if kind == "object" else None
        if symbols is None:
            return super()._unserialize(codegen, state)
        object_code, linking_bitcode = data
        library = cls(codegen, name)
        library.enable_object_caching()
        library._set_compiled_object(object_code)
        library._linking_bitcode = linking_bitcode
        library._finalize_final_module()
        codegen._engine._defined_symbols.update(symbols)  # what numba's listing adds
        return library

    def _get_module_for_linking(self):
        if self._shared_module is None and self._linking_bitcode is not None:
            self._shared_module = llvm.parse_bitcode(self._linking_bitcode)
            self._linking_bitcode = None
        return super()._get_module_for_linking()


# ELF-64, little-endian: a section header's type, offset, size and link; a symbol's
# name, type and section (0: undefined); symbol types kept: none, data, function.
_SECTION, _SYMBOL = struct.Struct("<4xI16xQQI20x"), struct.Struct("<IB1xH16x")
_SYMBOL_TABLE, _KEPT_TYPES = 2, (0, 1, 2)


def defined_symbols(object_code: bytes) -> set[str] | None:
    """The names an ELF-64 little-endian object defines; None for any other object.

    Every symbol with a section and a name, whatever its binding, as numba lists a
    module's definitions (functions and globals that are not declarations), except the
    private ones, which no symbol table holds and no lookup asks for. None too for an
    object this reader cannot read whole (numba's load then runs instead).
    """
    if object_code[:6] != b"\x7fELF\x02\x01" or object_code[16:18] != b"\x01\x00":
        return None  # not ELF-64 little-endian, or not a relocatable object
    try:
        return _symbol_names(object_code)
    except (struct.error, IndexError, ValueError, UnicodeDecodeError):
        return None


def _symbol_names(object_code: bytes) -> set[str] | None:
    (section_offset,) = struct.unpack_from("<Q", object_code, 0x28)
    entry_size, count, names_index = struct.unpack_from("<HHH", object_code, 0x3A)
    if count == 0 or names_index == 0xFFFF:  # extended numbering: sections counted elsewhere
        return None
    sections = [
        _SECTION.unpack_from(object_code, section_offset + k * entry_size) for k in range(count)
    ]
    names = set()
    for kind, offset, size, link in sections:
        if kind != _SYMBOL_TABLE:
            continue
        strings = sections[link][1]
        for at in range(offset, offset + size, 24):
            name, info, section = _SYMBOL.unpack_from(object_code, at)
            if section and name and info & 0xF in _KEPT_TYPES:
                end = object_code.index(b"\0", strings + name)
                names.add(object_code[strings + name : end].decode())
    return names or None


class KernelOnlyCache(MachineCodeCache):
    """numba's cache for a :class:`KernelDispatcher`: its entries under keys of their own.

    numba keys an entry by the function's name, signature, CPU and bytecode, not by
    how it was compiled. A function compiled both without numba's entry for Python and
    with it (``njit(cache=True)(rule)`` beside ``njit(cache=True, entry=True)(rule)``)
    would otherwise load the other's entry, and a Python call of one without the
    entry would crash.
    """

    def _index_key(self, sig, codegen):
        return (*super()._index_key(sig, codegen), "no entry for Python")


class KernelDispatcher(CPUDispatcher):
    """numba's dispatcher for a kernel that other kernels call: no entry for Python.

    numba compiles with each function an entry that Python calls it through (unboxing
    every argument, boxing the result) and one for calls through a function pointer.
    Neither is used when a kernel calls a kernel, and together they were about a
    sixth of the compile on an empty cache (docs/compiled_pipeline.md, "Compile and
    load"). Kernels are compiled without them, except those Python calls in a run
    (``njit(entry=True)``).

    Python can still call such a kernel (the tests call the rules directly): the
    call goes to :attr:`from_python`, a second dispatcher of the same function with
    the entry, compiled at its first call and cached under its own name. Its
    machine code is never what a kernel's call runs, so a result from Python is a
    result of the same source, compiled once more.
    """

    #: Calls from Python this way in this process, by kernel (a run makes none: a
    #: test runs every shipped scenario).
    python_calls: collections.Counter = collections.Counter()

    def enable_caching(self):
        """Cache with entries of their own (:class:`KernelOnlyCache`), not numba's default."""
        self._cache = KernelOnlyCache(self.py_func)

    def compile(self, sig):
        """Compile for ``sig`` (kernels' calls only); returns None.

        numba's method returns the compile's entry for Python, which this one does not
        have: calling what it returned would crash. No caller of numba's uses it.
        """
        super().compile(sig)

    def add_overload(self, cres):
        """Keep the compiled code for kernels' calls only.

        numba's own method also enters it in the table the Python call looks up, and
        without an entry for Python, that call would jump to no code.
        """
        self.overloads[tuple(cres.signature.args)] = cres

    def _compile_for_args(self, *args, **kws):
        """Python's call, which finds nothing in the table: :attr:`from_python` takes it."""
        KernelDispatcher.python_calls[f"{self.py_func.__module__}.{self.py_func.__qualname__}"] += 1
        return self.from_python

    @functools.cached_property
    def from_python(self):
        """The kernel compiled with numba's entry for Python, cached as ``NAME_from_python``."""
        func = self.py_func
        twin = pytypes.FunctionType(
            func.__code__, func.__globals__, func.__name__, func.__defaults__, func.__closure__
        )
        twin.__qualname__ = f"{func.__qualname__}_from_python"  # its own cache files
        twin.__module__ = func.__module__
        options = dict(self.targetoptions, no_cpython_wrapper=False)
        del options["nopython"]  # numba's njit sets it
        cache = not isinstance(self._cache, caching.NullCache)
        return _entry(twin, cache=cache, pipeline_class=self._compiler.pipeline_class, **options)


def _entry(func, **options):
    """The dispatcher numba makes of ``func`` (entry for Python included), its cache ours.

    Cached by :class:`MachineCodeCache` rather than numba's own cache class.
    """
    dispatcher = _numba_njit(func, **options)
    if options.get("cache"):
        dispatcher._cache = MachineCodeCache(dispatcher.py_func)
    return dispatcher


def njit(*args, cold: bool = False, entry: bool = False, **options):
    """The ``njit`` of numba, with :class:`KernelCompiler`: the decorator of every kernel.

    Args:
        *args: numba's (the function).
        cold: The kernel runs once a run or so (building a struct): compiled without
            LLVM's optimisation (:class:`ColdKernelCompiler`), as its speed never shows.
        entry: Python calls the kernel in a run (the day's kernel, case generation,
            building the struct): compiled with numba's entry for Python. Other kernels
            are compiled without it (:class:`KernelDispatcher`).
        **options: numba's ``cache=True`` and ``inline="always"``; numba's signatures
            and other options are refused (no kernel uses them).

    Raises:
        TypeError: For another option, or ``*args`` in a kernel that is not an entry.
    """
    unknown = set(options) - {"cache", "inline"}
    if unknown or (args and not callable(args[0])):
        raise TypeError(
            f"njit of sim.kernel_cache takes the function and cache, inline, cold and entry"
            f" (numba's signatures and other options are not used by the kernels): {unknown}"
        )
    pipeline = ColdKernelCompiler if cold else KernelCompiler
    # No kernel is passed around as a function pointer: no entry for that.
    options["no_cfunc_wrapper"] = True
    if entry:
        # numba's own dispatcher, entry for Python included.
        if args:
            return _entry(args[0], pipeline_class=pipeline, **options)
        return functools.partial(_entry, pipeline_class=pipeline, **options)

    options["no_cpython_wrapper"] = True

    def decorate(func):
        if inspect.getfullargspec(func).varargs:
            # numba's call from Python hands over *args packed: the call to from_python
            # would pack them again.
            raise TypeError(f"kernel {func.__qualname__} takes *args: declare it njit(entry=True)")
        numba_options = {k: v for k, v in options.items() if k != "cache"}
        dispatcher = KernelDispatcher(
            py_func=func,
            locals={},
            targetoptions={"boundscheck": None, **numba_options, "nopython": True},
            pipeline_class=pipeline,
        )
        if options.get("cache"):
            dispatcher.enable_caching()
        return dispatcher

    return decorate(args[0]) if args else decorate
