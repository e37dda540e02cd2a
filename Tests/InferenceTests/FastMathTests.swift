// The vectorisable exp/sigmoid against Glibc's expf over the whole useful range, relative error.
import Foundation
import Inference
import Testing

@Suite struct FastMathTests {
    @Test func expMatchesGlibc() {
        var worst: Float = 0
        var x: Float = -87
        while x < 88.5 {
            let exact = expf(x)
            let relative = abs(FastMath.exp(x) - exact) / exact
            worst = max(worst, relative)
            x += 0.001
        }
        #expect(worst < 5e-7, "max relative error \(worst)")
        #expect(FastMath.exp(0) == 1)
        #expect(FastMath.exp(-200) >= 0 && FastMath.exp(-200) < 1e-37)
        #expect(FastMath.exp(200).isFinite)
    }

    @Test func sigmoidMatchesReference() {
        var worst: Float = 0
        var x: Float = -30
        while x < 30 {
            worst = max(worst, abs(FastMath.sigmoid(x) - 1 / (1 + expf(-x))))
            x += 0.0007
        }
        #expect(worst < 2.5e-7, "max abs error \(worst)")
    }
}
