package dev.cornerstone.backend.cpu;

import java.lang.foreign.MemorySegment;
import java.nio.ByteOrder;

import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.IntVector;
import jdk.incubator.vector.VectorMask;
import jdk.incubator.vector.VectorOperators;
import jdk.incubator.vector.VectorSpecies;

/**
 * The Vector API (JDK 25's incubating {@code jdk.incubator.vector}) as the element-wise and
 * reduction kernels use it: float vectors of the machine's preferred width (16 lanes with
 * AVX-512, 8 with AVX2) loaded straight from tensor memory, a masked load and store for the
 * tail of a row, and the two transcendental functions the model needs, tanh and exp, as
 * polynomials in vector arithmetic.
 *
 * <p>Why not {@code lanewise(TANH)} and {@code lanewise(EXP)}: they call a vendor math library
 * (SVML on x86), measured here at 0.6 ns an element against about 0.1 for the polynomials, and
 * their results differ between platforms; the polynomials give the same bits everywhere for a
 * given vector width. Reductions ({@link #sum}, {@link #dot}) add lane-wise and then across the
 * lanes, so their rounding differs from a sequential sum by a few ulp of the row's magnitude,
 * which the kernels' tests bound against the plain double-precision reference.
 *
 * <p>Index arguments count floats, not bytes. Kernels call the API directly in their loops
 * (its methods are force-inlined) and keep each loop in a small static method: C2 gives up
 * inlining past a budget, and a vector crossing a call it did not inline is boxed, the
 * operation then running the API's Java fallback (an array allocated per operation, measured
 * as gigabytes of garbage per training run before the kernels were split this way).
 */
final class Vec {

    static final VectorSpecies<Float> S = FloatVector.SPECIES_PREFERRED;
    static final VectorSpecies<Integer> SI = S.withLanes(int.class);
    /** Lanes of {@link #S}. */
    static final int L = S.length();
    static final ByteOrder NATIVE = ByteOrder.nativeOrder();

    // tanh: Eigen's [13/6] rational minimax approximation (see FastMath.tanh)
    private static final float TANH_CLAMP = 7.90531110763549805f;
    // exp: Cephes expf (see FastMath.exp)
    private static final float EXP_LOW = -87.33654475f;
    private static final float EXP_HIGH = 88.0f;
    private static final float LOG2E = 1.44269504088896341f;
    private static final float LN2_HI = 0.693359375f;
    private static final float LN2_LO = -2.12194440e-4f;
    private static final float ROUND = 12582912f;

    private Vec() {
    }

    /** The largest multiple of the lane count not above {@code n}. */
    static int loopBound(int n) {
        return S.loopBound(n);
    }

    static long loopBound(long n) {
        return n - Math.floorMod(n, (long) L);
    }

    private static final ThreadLocal<float[]> LANES = ThreadLocal.withInitial(() -> new float[L]);

    /**
     * The sum of {@code v}'s lanes, added in lane order. Not {@code reduceLanes(ADD)}: its order
     * is unspecified, and the compiled intrinsic (a tree) and the interpreter's fallback (a
     * loop) round differently, so a result would depend on whether the JIT had compiled the
     * caller yet; measured as a resumed run's loss leaving the uninterrupted run's by an ulp.
     */
    static float sumLanes(FloatVector v) {
        float[] lanes = LANES.get();
        v.intoArray(lanes, 0);
        float s = 0f;
        for (int i = 0; i < L; i++) {
            s += lanes[i];
        }
        return s;
    }

    /** {@code sum m[index, index + n)}: whole vectors, then the rest one by one. */
    static float sum(MemorySegment m, long index, int n) {
        FloatVector acc = FloatVector.zero(S);
        int bound = loopBound(n);
        for (int i = 0; i < bound; i += L) {
            acc = acc.add(FloatVector.fromMemorySegment(S, m, (index + i) * Float.BYTES, NATIVE));
        }
        float s = sumLanes(acc);
        for (int i = bound; i < n; i++) {
            s += m.getAtIndex(Tiles.F32, index + i);
        }
        return s;
    }

    /** {@code sum a[ai + j] * b[bi + j]} for {@code j < n}. */
    static float dot(MemorySegment a, long ai, MemorySegment b, long bi, int n) {
        FloatVector acc = FloatVector.zero(S);
        int bound = loopBound(n);
        for (int i = 0; i < bound; i += L) {
            acc = FloatVector.fromMemorySegment(S, a, (ai + i) * Float.BYTES, NATIVE)
                    .fma(FloatVector.fromMemorySegment(S, b, (bi + i) * Float.BYTES, NATIVE), acc);
        }
        float s = sumLanes(acc);
        for (int i = bound; i < n; i++) {
            s += a.getAtIndex(Tiles.F32, ai + i) * b.getAtIndex(Tiles.F32, bi + i);
        }
        return s;
    }

    /** {@code max m[index, index + n)}; negative infinity for n = 0. */
    static float max(MemorySegment m, long index, int n) {
        FloatVector acc = FloatVector.broadcast(S, Float.NEGATIVE_INFINITY);
        int bound = loopBound(n);
        for (int i = 0; i < bound; i += L) {
            acc = acc.max(FloatVector.fromMemorySegment(S, m, (index + i) * Float.BYTES, NATIVE));
        }
        float s = acc.reduceLanes(VectorOperators.MAX);
        for (int i = bound; i < n; i++) {
            s = Math.max(s, m.getAtIndex(Tiles.F32, index + i));
        }
        return s;
    }

    /** {@code sum (m[index + j] - mean)^2} for {@code j < n}. */
    static float squaredDeviations(MemorySegment m, long index, int n, float mean) {
        FloatVector acc = FloatVector.zero(S);
        FloatVector mv = FloatVector.broadcast(S, mean);
        int bound = loopBound(n);
        for (int i = 0; i < bound; i += L) {
            FloatVector d = FloatVector.fromMemorySegment(S, m, (index + i) * Float.BYTES, NATIVE).sub(mv);
            acc = d.fma(d, acc);
        }
        float s = sumLanes(acc);
        for (int i = bound; i < n; i++) {
            float d = m.getAtIndex(Tiles.F32, index + i) - mean;
            s += d * d;
        }
        return s;
    }

    /** {@code m[index, index + n) *= alpha}. */
    static void scale(MemorySegment m, long index, int n, float alpha) {
        FloatVector a = FloatVector.broadcast(S, alpha);
        int bound = loopBound(n);
        for (int i = 0; i < bound; i += L) {
            long off = (index + i) * Float.BYTES;
            FloatVector.fromMemorySegment(S, m, off, NATIVE).mul(a).intoMemorySegment(m, off, NATIVE);
        }
        for (int i = bound; i < n; i++) {
            m.setAtIndex(Tiles.F32, index + i, m.getAtIndex(Tiles.F32, index + i) * alpha);
        }
    }

    private static FloatVector v(float value) {
        return FloatVector.broadcast(S, value);
    }

    // Constants as vectors: C2 inlines only so deep, and a scalar operand (x.mul(2f)) costs a
    // broadcast call that, past that depth, is not inlined, so the vector gets boxed.
    private static final FloatVector ONE = v(1f);
    private static final FloatVector ZERO = v(0f);
    private static final FloatVector TANH_HI = v(TANH_CLAMP);
    private static final FloatVector TANH_LO = v(-TANH_CLAMP);
    private static final FloatVector TP0 = v(-2.76076847742355e-16f);
    private static final FloatVector TP1 = v(2.00018790482477e-13f);
    private static final FloatVector TP2 = v(-8.60467152213735e-11f);
    private static final FloatVector TP3 = v(5.12229709037114e-08f);
    private static final FloatVector TP4 = v(1.48572235717979e-05f);
    private static final FloatVector TP5 = v(6.37261928875436e-04f);
    private static final FloatVector TP6 = v(4.89352455891786e-03f);
    private static final FloatVector TQ0 = v(1.19825839466702e-06f);
    private static final FloatVector TQ1 = v(1.18534705686654e-04f);
    private static final FloatVector TQ2 = v(2.26843463243900e-03f);
    private static final FloatVector TQ3 = v(4.89352518554385e-03f);
    private static final FloatVector E_LO = v(EXP_LOW);
    private static final FloatVector E_HI = v(EXP_HIGH);
    private static final FloatVector E_LOG2E = v(LOG2E);
    private static final FloatVector E_ROUND = v(ROUND);
    private static final FloatVector E_LN2_HI = v(-LN2_HI);
    private static final FloatVector E_LN2_LO = v(-LN2_LO);
    private static final FloatVector EP0 = v(1.9875691500E-4f);
    private static final FloatVector EP1 = v(1.3981999507E-3f);
    private static final FloatVector EP2 = v(8.3334519073E-3f);
    private static final FloatVector EP3 = v(4.1665795894E-2f);
    private static final FloatVector EP4 = v(1.6666665459E-1f);
    private static final FloatVector EP5 = v(5.0000001201E-1f);
    private static final IntVector BIAS = IntVector.broadcast(SI, 127);

    /** tanh, lane-wise; absolute error at most about 4e-7 (Eigen's {@code ptanh_float}). */
    static FloatVector tanh(FloatVector x) {
        FloatVector c = x.max(TANH_LO).min(TANH_HI);
        FloatVector x2 = c.mul(c);
        FloatVector p = TP0.fma(x2, TP1).fma(x2, TP2).fma(x2, TP3).fma(x2, TP4).fma(x2, TP5).fma(x2, TP6).mul(c);
        FloatVector q = TQ0.fma(x2, TQ1).fma(x2, TQ2).fma(x2, TQ3);
        // saturated lanes are exactly ±1 (c / clamp), as the scalar tanh's rounding gives: the
        // polynomial there is off by an ulp, which GELU multiplies by x
        return p.div(q).blend(c.div(TANH_HI), c.compare(VectorOperators.GE, TANH_HI)
                .or(c.compare(VectorOperators.LE, TANH_LO)));
    }

    /**
     * exp, lane-wise, as Cephes' {@code expf}: {@code 2^n exp(r)}, n = round(x / ln 2), exp(r) by a
     * degree-7 polynomial, 2^n built in the exponent bits. Relative error below 2e-7; x below
     * ln(2^-126) gives 0, above 88 gives exp(88); NaN stays NaN.
     */
    static FloatVector exp(FloatVector x) {
        VectorMask<Float> underflow = x.compare(VectorOperators.LT, E_LO);
        FloatVector c = x.max(E_LO).min(E_HI);
        // round to nearest: adding and subtracting 1.5 * 2^23 leaves an integer
        FloatVector k = c.fma(E_LOG2E, E_ROUND).sub(E_ROUND);
        FloatVector r = k.fma(E_LN2_LO, k.fma(E_LN2_HI, c));
        FloatVector p = EP0.fma(r, EP1).fma(r, EP2).fma(r, EP3).fma(r, EP4).fma(r, EP5);
        FloatVector y = p.fma(r.mul(r), r).add(ONE);
        // k in [-126, 127] (c is clamped), so k + 127 is a normal exponent
        IntVector bits = ((IntVector) k.convert(VectorOperators.F2I, 0)).add(BIAS).lanewise(VectorOperators.LSHL, 23);
        return y.mul(bits.reinterpretAsFloats()).blend(ZERO, underflow);
    }
}
