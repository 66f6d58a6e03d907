package dev.cornerstone.backend.opencl;

/**
 * Element-wise kernels, the optimizers and the casts (elementwise.cl): the arithmetic ones give
 * each work-item a chunk of {@value #CHUNK} elements as a float16, the others one element.
 */
final class ElementwiseKernels {

    private static final String PROGRAM = "elementwise.cl";
    static final int LOCAL = 64;
    /** Elements per work-item of the chunked kernels. */
    static final int CHUNK = 16;
    /** Work-items per group of the chunked kernels: each does 16 elements already. */
    static final int CHUNK_LOCAL = 16;

    private final ClContext cl;

    ElementwiseKernels(ClContext cl) {
        this.cl = cl;
    }

    private Launch k(String name) {
        return cl.launch(PROGRAM, "", name);
    }

    /** out = a + b (mul: a * b), b of bSize elements repeating over a. */
    void binary(String op, long a, long aSize, long b, long bSize, long out) {
        if (bSize == aSize) {
            k(op + "_same").mem(a).mem(b).mem(out).l(aSize).run(chunks(aSize), CHUNK_LOCAL);
        } else {
            long rows = aSize / bSize;
            k(op + "_rows").mem(a).mem(b).mem(out).i((int) bSize)
                    .run(new long[] {chunks(bSize), rows}, new long[] {CHUNK_LOCAL, 1});
        }
    }

    static long chunks(long n) {
        return (n + CHUNK - 1) / CHUNK;
    }

    /** {@code words} 32-bit words of {@code buffer} set to {@code bits}. */
    void fill32(long buffer, int bits, long words) {
        k("fill32").mem(buffer).i(bits).l(words).run(chunks(words), CHUNK_LOCAL);
    }

    void scale(long x, float alpha, long out, long n) {
        k("scale").mem(x).f(alpha).mem(out).l(n).run(chunks(n), CHUNK_LOCAL);
    }

    void axpy(float alpha, long x, long y, long n) {
        k("axpy").f(alpha).mem(x).mem(y).l(n).run(chunks(n), CHUNK_LOCAL);
    }

    void geluForward(long x, long out, long n) {
        k("gelu_forward").mem(x).mem(out).l(n).run(chunks(n), CHUNK_LOCAL);
    }

    void geluBackward(long x, long dout, long dx, long n) {
        k("gelu_backward").mem(x).mem(dout).mem(dx).l(n).run(chunks(n), CHUNK_LOCAL);
    }

    void dropout(long x, long mask, long out, float p, long seed, long n) {
        k("dropout_forward").mem(x).mem(mask).mem(out).f(p).f(1f / (1f - p)).l(seed).l(n).run(n, LOCAL);
    }

    void adamw(long param, long grad, long m, long v, float lr, float beta1, float beta2, float eps, float wd,
               int step, long n) {
        // the bias corrections as the reference computes them: in double, rounded to float
        float bc1 = (float) (1.0 - Math.pow(beta1, step));
        float bc2 = (float) (1.0 - Math.pow(beta2, step));
        k("adamw").mem(param).mem(grad).mem(m).mem(v).f(lr).f(beta1).f(beta2).f(eps).f(wd).f(bc1).f(bc2).l(n)
                .run(n, LOCAL);
    }

    /** {@code buffer} 0: no momentum buffer (momentum must then be 0). */
    void sgd(long param, long grad, long buffer, float lr, float momentum, boolean nesterov, float wd, boolean first,
             long n) {
        k("sgd").mem(param).mem(grad).mem(buffer == 0 ? grad : buffer).f(lr).f(momentum).i(nesterov ? 1 : 0).f(wd)
                .i(first ? 1 : 0).l(n).run(n, LOCAL);
    }

    void toBf16(long src, long dst, long n) {
        k("cast_to_bf16").mem(src).mem(dst).l(n).run(n, LOCAL);
    }

    void toF32(long src, long dst, long n) {
        k("cast_to_f32").mem(src).mem(dst).l(n).run(n, LOCAL);
    }
}
