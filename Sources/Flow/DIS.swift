// Dense Inverse Search optical flow (Kroeger et al., ECCV 2016): coarse-to-fine inverse-compositional patch
// search over a grid of overlapping patches, densified by photometric-error weighting, then variational
// refinement at every scale. Presets follow the spirit of OpenCV's DISOpticalFlow presets.
import Foundation  // log2
@_exported import Vocabulary

/// Parameters of the DIS method.
public struct DISOptions: Sendable, Equatable {
    /// Side of the square patches matched by inverse search.
    public var patchSize: Int
    /// Distance between neighbouring patch origins (patches overlap when smaller than `patchSize`).
    public var patchStride: Int
    /// Gauss-Newton iterations per patch per scale (split over the two propagation sweeps).
    public var gradientDescentIterations: Int
    /// The finest pyramid level computed; the flow is upsampled from there (0 = full resolution).
    public var finestScale: Int
    /// Fixed-point iterations of the variational refinement per scale (0 switches it off).
    public var variationalRefinementIterations: Int
    /// Subtract the patch mean from the residual: robust to brightness changes.
    public var useMeanNormalization: Bool = true
    /// Let each patch try its already-processed neighbours' flow before descending.
    public var useSpatialPropagation: Bool = true
    /// Variational refinement weights: smoothness, brightness constancy, gradient constancy.
    public var refinementAlpha: Float = 20
    public var refinementDelta: Float = 5
    public var refinementGamma: Float = 10
    /// Red-black SOR sweeps per fixed-point iteration, and the over-relaxation factor.
    public var sorIterations: Int = 5
    public var sorOmega: Float = 1.6

    public init(patchSize: Int, patchStride: Int, gradientDescentIterations: Int, finestScale: Int,
                variationalRefinementIterations: Int) {
        self.patchSize = patchSize
        self.patchStride = patchStride
        self.gradientDescentIterations = gradientDescentIterations
        self.finestScale = finestScale
        self.variationalRefinementIterations = variationalRefinementIterations
    }

    public init(preset: DISPreset) {
        switch preset {
        case .ultrafast:
            self.init(patchSize: 8, patchStride: 4, gradientDescentIterations: 12, finestScale: 2,
                      variationalRefinementIterations: 0)
        case .fast:
            self.init(patchSize: 8, patchStride: 4, gradientDescentIterations: 16, finestScale: 2,
                      variationalRefinementIterations: 5)
        case .medium:
            self.init(patchSize: 8, patchStride: 3, gradientDescentIterations: 25, finestScale: 1,
                      variationalRefinementIterations: 5)
        }
    }
}

/// Errors from the flow methods.
public enum FlowError: Error, Equatable, CustomStringConvertible {
    case sizeMismatch(first: (Int, Int), second: (Int, Int))
    case initialFlowSize(expected: (Int, Int), got: (Int, Int))

    public static func == (a: FlowError, b: FlowError) -> Bool { a.description == b.description }

    public var description: String {
        switch self {
        case let .sizeMismatch(a, b):
            return "frames differ in size: \(a.0)x\(a.1) and \(b.0)x\(b.1)"
        case let .initialFlowSize(e, g):
            return "initial flow is \(g.0)x\(g.1) but the frames are \(e.0)x\(e.1)"
        }
    }
}

/// DIS optical flow. A value type: one instance may be used from several tasks.
public struct DISOpticalFlow: Sendable {
    public var options: DISOptions
    /// Threads for row bands and patch stripes (1 = fully sequential and deterministic across machines).
    public var threads: Int

    public init(options: DISOptions, threads: Int = 1) {
        self.options = options
        self.threads = max(1, threads)
    }

    public init(preset: DISPreset, threads: Int = 1) {
        self.init(options: DISOptions(preset: preset), threads: threads)
    }

    /// Scale plan for a `width`×`height` input: effective patch size, coarsest and finest level.
    ///
    /// Small inputs: the coarsest level is the deepest one whose shorter side still holds a patch (and no
    /// deeper than needed to see motions of about a quarter of the frame, as in the paper). When the requested
    /// finest scale is deeper than that, the computation stops at the coarsest usable level and the flow is
    /// upsampled from there. When even the full-resolution image is narrower than a patch (e.g. 8×8 with
    /// 12-pixel patches), the patch shrinks to the shorter side and one level is used.
    public func scalePlan(width: Int, height: Int) -> (patchSize: Int, coarsest: Int, finest: Int) {
        let minSide = min(width, height), maxSide = max(width, height)
        let patch = max(1, min(options.patchSize, minSide))
        guard minSide >= 1 else { return (patch, 0, 0) }
        let byMotion = Int((log2(Double(maxSide) / (4.0 * Double(patch))) + 0.5).rounded(.down))
        let byPatch = Int(log2(Double(minSide) / Double(patch)).rounded(.down))
        let coarsest = max(0, min(byMotion, byPatch))
        return (patch, coarsest, min(max(0, options.finestScale), coarsest))
    }

    /// Forward flow from `first` to `second`: first(q) ≈ second(q + f(q)).
    /// `initial` (e.g. the previous pair's flow on video) seeds the coarsest scale instead of zero motion.
    public func flow(from first: GrayImage, to second: GrayImage,
                     initial: FlowField? = nil) throws(FlowError) -> FlowField {
        guard first.width == second.width, first.height == second.height else {
            throw .sizeMismatch(first: (first.width, first.height), second: (second.width, second.height))
        }
        if let initial, initial.width != first.width || initial.height != first.height {
            throw .initialFlowSize(expected: (first.width, first.height), got: (initial.width, initial.height))
        }
        let width = first.width, height = first.height
        if width == 0 || height == 0 { return FlowField(width: width, height: height) }

        let plan = scalePlan(width: width, height: height)
        let (pyramid0, pyramid1) = Pyramid.buildPair(first, second, levels: plan.coarsest, threads: threads)

        var flow: PlanarFlow
        let top = pyramid0[plan.coarsest]
        if let initial {
            flow = PlanarFlow(initial).resized(width: top.width, height: top.height,
                                               scale: Float(top.width) / Float(width), threads: threads)
        } else {
            flow = PlanarFlow(width: top.width, height: top.height)
        }
        for level in stride(from: plan.coarsest, through: plan.finest, by: -1) {
            let i0 = pyramid0[level], i1 = pyramid1[level]
            if flow.width != i0.width || flow.height != i0.height {
                flow = flow.resized(width: i0.width, height: i0.height, scale: 2, threads: threads)
            }
            let search = PatchSearch(i0: i0, i1: i1, patchSize: plan.patchSize,
                                     stride: min(options.patchStride, plan.patchSize), options: options,
                                     threads: threads)
            flow = search.run(initial: flow)
            if options.variationalRefinementIterations > 0 {
                var refinement = VariationalRefinement(
                    alpha: options.refinementAlpha, delta: options.refinementDelta, gamma: options.refinementGamma,
                    fixedPointIterations: options.variationalRefinementIterations,
                    sorIterations: options.sorIterations, omega: options.sorOmega)
                refinement.threads = threads
                refinement.refine(&flow, i0: i0, i1: i1)
            }
        }
        if flow.width != width || flow.height != height {
            return flow.resizedField(width: width, height: height, scale: Float(1 << plan.finest), threads: threads)
        }
        return flow.interleaved()
    }
}

