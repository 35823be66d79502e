"""Asking the CPU for an array element's cache line ahead of its use, from the kernels.

The stage kernels take a day's requests one at a time, and each reads fields that sit
far apart in memory: its case's row in the case book, the pair of states' frictions
and trust in matrices of a few hundred kilobytes each. Each read that misses the
caches waits for memory, and a loop whose body is long (a request's refusal grounds,
its clarification) keeps only a few such waits in flight at once. perf found most of
those kernels' samples on one or two such loads (docs/performance.md, the fourteenth
session's section).

:func:`prefetch` compiles to LLVM's ``llvm.prefetch``, a hint that starts fetching
the line holding ``array[i]`` (or ``array[i, j]``) and does nothing else: it reads no
value, cannot fault, and leaves every result as it was. A loop calls it for the
element the iteration :data:`AHEAD` places later will read.
"""

from __future__ import annotations

from llvmlite import ir
from numba import types
from numba.core import cgutils
from numba.extending import intrinsic

#: How many iterations ahead a loop asks for what it will read: far enough that the
#: line arrives in time, near enough that it is still in the cache when used. A loop
#: whose body is a few instructions runs through more of them while a line comes.
AHEAD = 16
AHEAD_IN_SHORT_LOOPS = 24

# llvm.prefetch's arguments after the address: read (0), keep in all cache levels (3),
# data (1).
_READ, _ALL_LEVELS, _DATA = 0, 3, 1


def _prefetch_codegen(context, builder, signature, args):
    array_type, index_types = signature.args[0], signature.args[1:]
    array = context.make_array(array_type)(context, builder, args[0])
    indices = [
        context.cast(builder, value, index_type, types.intp)
        for value, index_type in zip(args[1:], index_types, strict=True)
    ]
    pointer = cgutils.get_item_pointer(context, builder, array_type, array, indices)
    # One declaration for every element type: the address as a byte pointer.
    pointer = builder.bitcast(pointer, ir.IntType(8).as_pointer())
    i32 = ir.IntType(32)
    fnty = ir.FunctionType(ir.VoidType(), [pointer.type, i32, i32, i32])
    fn = cgutils.get_or_insert_function(builder.module, fnty, "llvm.prefetch.p0")
    builder.call(fn, [pointer, i32(_READ), i32(_ALL_LEVELS), i32(_DATA)])
    return context.get_dummy_value()


def _valid(array, indices) -> bool:
    return (
        isinstance(array, types.Array)
        and array.ndim == len(indices)
        and all(isinstance(i, types.Integer) for i in indices)
    )


@intrinsic
def prefetch(typingctx, array, i):
    """Start fetching the cache line of ``array[i]`` (1-D); no effect on any value.

    The index must be valid: nothing is checked (no value is read).
    """
    if not _valid(array, (i,)):
        return None
    return types.void(array, i), _prefetch_codegen


@intrinsic
def prefetch_pair(typingctx, array, i, j):
    """Start fetching the cache line of ``array[i, j]`` (2-D); no effect on any value."""
    if not _valid(array, (i, j)):
        return None
    return types.void(array, i, j), _prefetch_codegen
