"""The struct the kernels take, built: :class:`KernelState` and :class:`Streams`.

:mod:`sim.kernel_state` names what the struct holds (:data:`~sim.kernel_state.FIELDS`);
this module defines numba's types for it and builds it. The model builds a
:class:`KernelState` with :func:`new_state` when it starts and whenever an array it
holds is replaced (:mod:`sim.lifecycle`), and its :class:`Streams` once.
"""

from __future__ import annotations

from numba import types
from numba.core.extending import intrinsic
from numba.experimental import structref
from numba.experimental.jitclass.base import imp_dtor

from sim.kernel_cache import njit  # first: where and how numba compiles the kernels
from sim.kernel_state import FIELDS


@structref.register
class KernelStateType(types.StructRef):
    """numba's type of :class:`KernelState` (one per set of field types)."""

    def preprocess_fields(self, fields):
        """Field types as numba infers them, without literal values."""
        return tuple((name, types.unliteral(typ)) for name, typ in fields)


class KernelState(structref.StructRefProxy):
    """The model's arrays as one struct the kernels read and write in place."""


structref.define_proxy(KernelState, KernelStateType, FIELDS)


@intrinsic
def _state_from(typingctx, arrays):
    """A new struct holding each of the tuple ``arrays`` (in :data:`FIELDS` order).

    What the proxy's constructor does (``structref.new``, then each field set), in
    one step: numba's constructor takes the arrays as 158 arguments and sets each
    field with its own reference counting of them all, about 3 s of compile.
    """
    instance_type = KernelStateType(list(zip(FIELDS, arrays.types, strict=True)))

    def codegen(context, builder, signature, args):
        # Allocated as structref.new allocates: the fields' memory with their destructor.
        # Every field is written below (FIELDS and the arrays zip strictly), so unlike
        # structref.new the payload needs no zeroing first.
        payload = context.data_model_manager[instance_type.get_data_type()].get_value_type()
        meminfo = context.nrt.meminfo_alloc_dtor(
            builder,
            context.get_constant(types.uintp, context.get_abi_sizeof(payload)),
            imp_dtor(context, builder.module, instance_type),
        )
        instance = context.make_helper(builder, instance_type)
        instance.meminfo = meminfo
        instance = instance._getvalue()
        data = structref._Utils(context, builder, instance_type).get_data_struct(instance)
        for k, (name, array_type) in enumerate(zip(FIELDS, arrays.types, strict=True)):
            array = builder.extract_value(args[0], k)
            context.nrt.incref(builder, array_type, array)  # the struct's own reference
            setattr(data, name, array)
        return instance

    return instance_type(arrays), codegen


@njit(cache=True, cold=True, entry=True)
def new_state(*arrays):
    """The struct over these arrays, in :data:`FIELDS` order.

    Compiled and cached: building the struct from Python (the proxy's own
    constructor) would compile anew in every process.
    """
    return _state_from(arrays)


@structref.register
class StreamsType(types.StructRef):
    """numba's type of :class:`Streams`."""


class Streams(structref.StructRefProxy):
    """The model's random streams as the kernels take them: ``model`` and ``cases``.

    Each shares its state with its Python Generator (``model.rng``, ``model.case_rng``),
    so draws in Python and in the kernels interleave as on one stream. Built once per
    model: a Generator passed to a kernel itself is converted again at every call,
    about 16 µs of Python code (``ctypes.cast``; see :mod:`sim.held_signals`).
    """


structref.define_proxy(Streams, StreamsType, ["model", "cases"])


@njit(cache=True, cold=True, entry=True)
def new_streams(model, cases):
    """The :class:`Streams` over the model's and the case Generators."""
    return Streams(model, cases)
