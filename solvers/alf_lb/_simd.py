"""16-lane SIMD values for numba: an LLVM vector type and the operations of the tiled routing kernel.

Every operation is plain LLVM IR (vector loads/stores, compares, selects, shuffles and the masked
expand-load / compress-store intrinsics), lowered by LLVM for the host CPU (one register per vector with
AVX-512 on float32, two on float64 or AVX2). No fast-math: values are exact. Used by
:func:`solvers.alf_lb.routing._tile_kernel` only.
"""

from __future__ import annotations

from llvmlite import ir
from numba import types
from numba.core import cgutils
from numba.extending import intrinsic, models, register_model

#: SIMD width: lanes per vector = tokens per tile = expert groups per token.
W = 16
_W = W

_I32 = ir.IntType(32)
_I64 = ir.IntType(64)
_MASK = ir.VectorType(ir.IntType(1), _W)


class _Vec(types.Type):
    """A vector of _W lanes of a numba scalar type (float32, float64 or int32)."""

    def __init__(self, dtype):
        self.dtype = dtype
        super().__init__(name=f"Vec{_W}({dtype})")


@register_model(_Vec)
class _VecModel(models.PrimitiveModel):
    def __init__(self, dmm, fe_type):
        super().__init__(dmm, fe_type, ir.VectorType(dmm.lookup(fe_type.dtype).get_value_type(), _W))


def _suffix(vt):
    """LLVM's name of a vector type in overloaded intrinsic names, e.g. v16f32."""
    return f"v{vt.count}" + {"float": "f32", "double": "f64"}.get(str(vt.element), str(vt.element))


def _ptr(context, builder, arrty, arr, off, ty):
    """Pointer to ``arr.ravel()[off]`` (contiguous array) as a ``ty*``."""
    data = cgutils.create_struct_proxy(arrty)(context, builder, value=arr).data
    return builder.bitcast(builder.gep(data, [off]), ty.as_pointer())


def _splat(builder, x, vt):
    v = builder.insert_element(ir.Constant(vt, ir.Undefined), x, ir.Constant(_I32, 0))
    return builder.shuffle_vector(v, v, ir.Constant(ir.VectorType(_I32, _W), [0] * _W))


def _bits(builder, mask):
    """A <_W x i1> mask as an integer whose bit l is lane l."""
    return builder.zext(builder.bitcast(mask, ir.IntType(_W)), _I64)


def _fmax(builder, a, b):
    return builder.select(builder.fcmp_ordered(">", a, b), a, b)


def _fmin(builder, a, b):
    return builder.select(builder.fcmp_ordered("<", a, b), a, b)


def _transpose(builder, rows):
    """Transpose _W vectors of _W lanes: four rounds of interleaving row i with row i + _W/2."""
    lo = ir.Constant(ir.VectorType(_I32, _W), [i // 2 + (_W if i % 2 else 0) for i in range(_W)])
    hi = ir.Constant(ir.VectorType(_I32, _W), [_W // 2 + i // 2 + (_W if i % 2 else 0) for i in range(_W)])
    for _ in range(_W.bit_length() - 1):
        rows = [builder.shuffle_vector(rows[i], rows[i + _W // 2], m) for i in range(_W // 2) for m in (lo, hi)]
    return rows


def _load_rows(context, builder, arrty, arr, start, stride):
    """The _W vectors ``arr[start + k*stride : start + k*stride + _W]``, k < _W (start, stride: ints)."""
    vt = ir.VectorType(context.get_value_type(arrty.dtype), _W)
    return [builder.load(_ptr(context, builder, arrty, arr, builder.add(ir.Constant(_I64, start), builder.mul(
        stride, ir.Constant(stride.type, k))), vt), align=arrty.dtype.bitwidth // 8) for k in range(_W)]


@intrinsic
def _vload(typingctx, arr, off):
    """``arr[off : off + _W]`` as a vector."""
    def codegen(context, builder, sig, args):
        vt = context.get_value_type(sig.return_type)
        return builder.load(_ptr(context, builder, arr, args[0], args[1], vt), align=arr.dtype.bitwidth // 8)
    return _Vec(arr.dtype)(arr, types.intp), codegen


@intrinsic
def _vload_part(typingctx, arr, off, count, fill):
    """``arr[off : off + count]`` in the first ``count`` lanes (count < _W), ``fill`` in the others.

    An expand-load under a prefix mask reads exactly the first ``count`` elements.
    """
    def codegen(context, builder, sig, args):
        vt = context.get_value_type(sig.return_type)
        p = _ptr(context, builder, arr, args[0], args[1], vt.element)
        iota = ir.Constant(ir.VectorType(_I32, _W), list(range(_W)))
        mask = builder.icmp_unsigned("<", iota, _splat(builder, builder.trunc(args[2], _I32), iota.type))
        f = _splat(builder, context.cast(builder, args[3], fill, arr.dtype), vt)
        fn = cgutils.get_or_insert_function(builder.module, ir.FunctionType(vt, [p.type, _MASK, vt]),
                                            f"llvm.masked.expandload.{_suffix(vt)}")
        return builder.call(fn, [p, mask, f])
    return _Vec(arr.dtype)(arr, types.intp, types.intp, fill), codegen


@intrinsic
def _vstore(typingctx, arr, off, v):
    """``arr[off : off + _W] = v``."""
    def codegen(context, builder, sig, args):
        p = _ptr(context, builder, arr, args[0], args[1], context.get_value_type(v))
        builder.store(args[2], p, align=arr.dtype.bitwidth // 8)
        return context.get_dummy_value()
    return types.none(arr, types.intp, v), codegen


@intrinsic
def _vsplat(typingctx, x, like):
    """The vector of ``like``'s type with every lane x."""
    def codegen(context, builder, sig, args):
        return _splat(builder, context.cast(builder, args[0], x, like.dtype), context.get_value_type(like))
    return like(x, like), codegen


@intrinsic
def _viota(typingctx, start):
    """The int32 vector (start, start + 1, …, start + _W − 1)."""
    def codegen(context, builder, sig, args):
        vt = ir.VectorType(_I32, _W)
        return builder.add(_splat(builder, builder.trunc(args[0], _I32), vt), ir.Constant(vt, list(range(_W))))
    return _Vec(types.int32)(types.intp), codegen


@intrinsic
def _vadd(typingctx, a, b):
    def codegen(context, builder, sig, args):
        return builder.fadd(args[0], args[1])
    return a(a, b), codegen


@intrinsic
def _vmax(typingctx, a, b):
    def codegen(context, builder, sig, args):
        return _fmax(builder, args[0], args[1])
    return a(a, b), codegen


@intrinsic
def _vmin(typingctx, a, b):
    def codegen(context, builder, sig, args):
        return _fmin(builder, args[0], args[1])
    return a(a, b), codegen


@intrinsic
def _vge_bits(typingctx, v, t):
    """The lanes with v ≥ t, as bits of an integer."""
    def codegen(context, builder, sig, args):
        t_ = _splat(builder, context.cast(builder, args[1], t, v.dtype), context.get_value_type(v))
        return _bits(builder, builder.fcmp_ordered(">=", args[0], t_))
    return types.uint64(v, t), codegen


def _exponent(builder, x):
    """The exponent bits of float vector x as an unsigned integer vector, and its all-ones value."""
    bw = {"float": 32, "double": 64}[str(x.type.element)]
    it = ir.VectorType(ir.IntType(bw), _W)
    ones = ir.Constant(it, [(2 ** (8 if bw == 32 else 11) - 1) << (23 if bw == 32 else 52)] * _W)
    return builder.and_(builder.bitcast(x, it), ones), ones


@intrinsic
def _vexp_max(typingctx, acc, x):
    """acc ← max(acc, exponent bits of x) lane-wise; some lane is all-ones iff some x was inf or nan."""
    def codegen(context, builder, sig, args):
        e, _ = _exponent(builder, args[1])
        a = builder.bitcast(args[0], e.type)
        return builder.bitcast(builder.select(builder.icmp_unsigned(">", e, a), e, a), args[0].type)
    return acc(acc, x), codegen


@intrinsic
def _vexp_finite(typingctx, acc):
    """Whether no lane of an accumulator of :func:`_vexp_max` saw an inf or a nan."""
    def codegen(context, builder, sig, args):
        e, ones = _exponent(builder, args[0])
        bad = builder.bitcast(builder.icmp_unsigned("==", e, ones), ir.IntType(_W))
        return builder.icmp_unsigned("==", bad, ir.Constant(ir.IntType(_W), 0))
    return types.boolean(acc), codegen


@intrinsic
def _vcompress_store(typingctx, arr, off, v, bits):
    """Store the lanes of v whose bit is set, in lane order, to ``arr[off:]`` (popcount(bits) elements)."""
    def codegen(context, builder, sig, args):
        vt = context.get_value_type(v)
        p = _ptr(context, builder, arr, args[0], args[1], vt.element)
        mask = builder.bitcast(builder.trunc(args[3], ir.IntType(_W)), _MASK)
        fn = cgutils.get_or_insert_function(builder.module, ir.FunctionType(ir.VoidType(), [vt, p.type, _MASK]),
                                            f"llvm.masked.compressstore.{_suffix(vt)}")
        builder.call(fn, [args[2], p, mask])
        return context.get_dummy_value()
    return types.none(arr, types.intp, v, types.uint64), codegen


@intrinsic
def _popcount(typingctx, x):
    def codegen(context, builder, sig, args):
        return builder.call(builder.module.declare_intrinsic("llvm.ctpop", [args[0].type]), [args[0]])
    return x(x), codegen


@intrinsic
def _tile_threshold(typingctx, M, K, H):
    """τ_t = the K-th largest of the H·_W group values of token t, for the _W tokens of a tile.

    ``M[h*_W*_W + t*_W + g]`` is the h-th largest value of token t's group g (h < H). Each block of
    _W rows is transposed in registers, then every group vector (lanes = tokens) goes down a
    compare-exchange chain that keeps the K largest values of each lane in order (the max stays,
    the min moves on); its last link is τ. K and H are literals.
    """
    if not (isinstance(K, types.IntegerLiteral) and isinstance(H, types.IntegerLiteral)):
        return None
    k, nb = K.literal_value, H.literal_value

    def codegen(context, builder, sig, args):
        top = None
        for b in range(nb):
            rows = _load_rows(context, builder, M, args[0], b * _W * _W, ir.Constant(_I64, _W))
            for x in _transpose(builder, rows):
                top = top or [ir.Constant(x.type, [float("-inf")] * _W)] * k
                for r in range(k):
                    top[r], x = _fmax(builder, top[r], x), _fmin(builder, top[r], x)
        return top[k - 1]
    return _Vec(M.dtype)(M, K, H), codegen


@intrinsic
def _tile_topk(typingctx, CV, CI, stride, nslots, K, H, IDX):
    """Exact top-K of the candidate slots of the _W tokens of a tile, by an insertion network.

    Token t's candidates are ``CV/CI[t*stride + q]`` (value, expert), q < H·_W, in increasing
    expert order, padded with −inf. Blocks of _W slots are transposed in registers (lanes = tokens);
    slot q, for q < min(nslots, H·_W), is inserted into the sorted lists (V_r, I_r), r < K, of all
    lanes at once: it goes right after the entries ≥ it and the later ones move down one place. This
    is ``topk_insert`` with its strict '>' (an equal value keeps the earlier, lower expert first),
    so each lane ends with the stable top-K of its candidates. The lists start at (−inf, −1) and a
    −inf candidate is never inserted. ``IDX[t*_W + r]`` receives I_r of token t; the result has
    bit t set where I_{K−1} of token t is −1 (fewer than K finite candidates). K ≤ _W and H are
    literals.
    """
    if not (isinstance(K, types.IntegerLiteral) and isinstance(H, types.IntegerLiteral)):
        return None
    k, nb = K.literal_value, H.literal_value

    def codegen(context, builder, sig, args):
        cv, ci, st, ns, _, _, idx = args
        it = ir.VectorType(_I32, _W)
        tv = [ir.Constant(ir.VectorType(context.get_value_type(CV.dtype), _W), [float("-inf")] * _W)] * k
        ti = [ir.Constant(it, [-1] * _W)] * k
        done = builder.function.append_basic_block("topk.done")
        incoming = []
        for q in range(nb * _W):  # slot q runs only if q < nslots
            incoming.append((ti, builder.block))
            body = builder.function.append_basic_block(f"topk.slot{q}")
            builder.cbranch(builder.icmp_signed(">", ns, ir.Constant(ns.type, q)), body, done)
            builder.position_at_end(body)
            if q % _W == 0:  # the next block of slots, transposed
                xs = _transpose(builder, _load_rows(context, builder, CV, cv, q, st))
                xis = _transpose(builder, _load_rows(context, builder, CI, ci, q, st))
            x, xi = xs[q % _W], xis[q % _W]
            ge = [builder.fcmp_ordered(">=", tv[r], x) for r in range(k)]  # true for r < position of x
            tv = [builder.select(ge[0], tv[0], x)] + [
                builder.select(ge[r], tv[r], builder.select(ge[r - 1], x, tv[r - 1])) for r in range(1, k)]
            ti = [builder.select(ge[0], ti[0], xi)] + [
                builder.select(ge[r], ti[r], builder.select(ge[r - 1], xi, ti[r - 1])) for r in range(1, k)]
        incoming.append((ti, builder.block))
        builder.branch(done)
        builder.position_at_end(done)
        res = []
        for r in range(k):
            phi = builder.phi(it)
            for vals, block in incoming:
                phi.add_incoming(vals[r], block)
            res.append(phi)
        unfilled = _bits(builder, builder.icmp_signed("<", res[k - 1], ir.Constant(it, [0] * _W)))
        rows = _transpose(builder, res + [ir.Constant(it, [-1] * _W)] * (_W - k))
        for t, row in enumerate(rows):
            builder.store(row, _ptr(context, builder, IDX, idx, ir.Constant(_I64, t * _W), it), align=4)
        return unfilled
    return types.uint64(CV, CI, types.intp, types.intp, K, H, IDX), codegen


