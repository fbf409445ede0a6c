"""8-lane float64 vectors for numba: an LLVM vector type and the few operations the lane kernels need.

Every operation is one plain LLVM IR instruction (vector load/store, fadd/fsub/fmul/fdiv, a splat), lowered
for the host CPU: one register with AVX-512, two with AVX2. No fast-math flags, so lane v computes exactly
what the scalar code computes, operation by operation (IEEE rounding, no FMA contraction). Arrays are flat
float64, a vector at ``arr[off : off + 8]``. Used by :mod:`solvers.sor._lanes` only.
"""

from __future__ import annotations

from llvmlite import ir
from numba import types
from numba.core import cgutils
from numba.extending import intrinsic, models, register_model

#: Lanes per vector.
W = 8

_I32 = ir.IntType(32)
_VT = ir.VectorType(ir.DoubleType(), W)


class _Vec8(types.Type):
    """A vector of 8 float64 lanes."""

    def __init__(self):
        super().__init__(name="SorVec8(float64)")


vec8 = _Vec8()


@register_model(_Vec8)
class _Vec8Model(models.PrimitiveModel):
    def __init__(self, dmm, fe_type):
        super().__init__(dmm, fe_type, _VT)


def _ptr(context, builder, arrty, arr, off):
    data = cgutils.create_struct_proxy(arrty)(context, builder, value=arr).data
    return builder.bitcast(builder.gep(data, [off]), _VT.as_pointer())


@intrinsic
def vload(typingctx, arr, off):
    """``arr[off : off + 8]`` as a vector (arr: flat contiguous float64)."""
    def codegen(context, builder, sig, args):
        return builder.load(_ptr(context, builder, sig.args[0], args[0], args[1]), align=8)
    return vec8(arr, types.intp), codegen


@intrinsic
def vstore(typingctx, arr, off, v):
    """``arr[off : off + 8] = v``."""
    def codegen(context, builder, sig, args):
        builder.store(args[2], _ptr(context, builder, sig.args[0], args[0], args[1]), align=8)
        return context.get_dummy_value()
    return types.void(arr, types.intp, vec8), codegen


@intrinsic
def vsplat(typingctx, x):
    """The vector (x, x, …, x)."""
    def codegen(context, builder, sig, args):
        v = builder.insert_element(ir.Constant(_VT, ir.Undefined), args[0], ir.Constant(_I32, 0))
        return builder.shuffle_vector(v, v, ir.Constant(ir.VectorType(_I32, W), [0] * W))
    return vec8(types.float64), codegen


@intrinsic
def vadd(typingctx, a, b):
    """a + b, lane-wise."""
    def codegen(context, builder, sig, args):
        return builder.fadd(args[0], args[1])
    return vec8(vec8, vec8), codegen


@intrinsic
def vsub(typingctx, a, b):
    """a − b, lane-wise."""
    def codegen(context, builder, sig, args):
        return builder.fsub(args[0], args[1])
    return vec8(vec8, vec8), codegen


@intrinsic
def vmul(typingctx, a, b):
    """a·b, lane-wise."""
    def codegen(context, builder, sig, args):
        return builder.fmul(args[0], args[1])
    return vec8(vec8, vec8), codegen


@intrinsic
def vdiv(typingctx, a, b):
    """a / b, lane-wise."""
    def codegen(context, builder, sig, args):
        return builder.fdiv(args[0], args[1])
    return vec8(vec8, vec8), codegen
