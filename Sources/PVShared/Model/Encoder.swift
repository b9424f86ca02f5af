import Foundation

/// Shared encoder f_enc: G → H → H (LeakyReLU after each layer). Writes h into the first H columns of a wider
/// buffer (the response head's input [h, u]) so no copy is needed.
public final class Encoder {
    let l1, l2: Linear
    let a1, da1: FloatBuffer
    let H: Int

    public init(_ s: ParamStore, _ c: PVConfig, maxRows: Int) {
        H = c.hidden
        l1 = Linear(s, "enc1", c.genes, H); l2 = Linear(s, "enc2", H, H)
        a1 = FloatBuffer(maxRows * H); da1 = FloatBuffer(maxRows * H)
    }

    public func forward(_ x: UnsafePointer<Float>, rows: Int, h: UnsafeMutablePointer<Float>, ldh: Int) {
        l1.forward(x, ldx: l1.nIn, rows: rows, a1.p, ldy: H)
        LeakyReLU.forward(a1.p, rows: rows, cols: H, ld: H)
        l2.forward(a1.p, ldx: H, rows: rows, h, ldy: ldh)
        LeakyReLU.forward(h, rows: rows, cols: H, ld: ldh)
    }

    /// `dh` (in place, first H columns of a ldh-wide buffer) is the gradient of the encoder output; the input
    /// gradient is not needed (x is data), which saves the largest product.
    public func backward(_ x: UnsafePointer<Float>, rows: Int, h: UnsafePointer<Float>, ldh: Int,
                         dh: UnsafeMutablePointer<Float>, lddh: Int) {
        LeakyReLU.backward(h, ldy: ldh, dh, ldd: lddh, rows: rows, cols: H)
        l2.backward(a1.p, ldx: H, dh, ldy: lddh, rows: rows, dx: da1.p, lddx: H)
        LeakyReLU.backward(a1.p, ldy: H, da1.p, ldd: H, rows: rows, cols: H)
        l1.backward(x, ldx: l1.nIn, da1.p, ldy: H, rows: rows, dx: nil, lddx: 0)
    }
}

/// Response head g_ν: [h, u] → H → 2·d_ν (mean and log-variance of the posterior over the response noise ñ_ν).
public final class ResponseHead {
    let l1, l2: Linear
    let q1, dq1: FloatBuffer
    public let q: FloatBuffer
    let H: Int

    public init(_ s: ParamStore, _ c: PVConfig, maxRows: Int) {
        H = c.hidden
        l1 = Linear(s, "resp1", H + c.targets, H); l2 = Linear(s, "resp2", H, 2 * c.latentResp)
        q1 = FloatBuffer(maxRows * H); dq1 = FloatBuffer(maxRows * H); q = FloatBuffer(maxRows * 2 * c.latentResp)
    }

    /// `hu`: rows of [h, u] (width H+K).
    public func forward(_ hu: UnsafePointer<Float>, rows: Int) {
        l1.forward(hu, ldx: l1.nIn, rows: rows, q1.p, ldy: H)
        LeakyReLU.forward(q1.p, rows: rows, cols: H, ld: H)
        l2.forward(q1.p, ldx: H, rows: rows, q.p, ldy: l2.nOut)
    }

    /// dq → parameter gradients and d[h, u] (overwritten).
    public func backward(_ hu: UnsafePointer<Float>, rows: Int, dq: UnsafePointer<Float>, dhu: UnsafeMutablePointer<Float>) {
        l2.backward(q1.p, ldx: H, dq, ldy: l2.nOut, rows: rows, dx: dq1.p, lddx: H)
        LeakyReLU.backward(q1.p, ldy: H, dq1.p, ldd: H, rows: rows, cols: H)
        l1.backward(hu, ldx: l1.nIn, dq1.p, ldy: H, rows: rows, dx: dhu, lddx: l1.nIn)
    }
}
