// One entry point over the flow methods, for callers that pick the method by name (CLI, pipeline config).

/// A configured flow method: DIS with a preset, or Farneback.
public struct OpticalFlow: Sendable {
    public var method: FlowMethod
    public var preset: DISPreset
    public var threads: Int
    /// DIS parameters; starts as the preset's, callers may override single fields.
    public var disOptions: DISOptions
    public var farnebackOptions = FarnebackOptions()

    public init(method: FlowMethod = .dis, preset: DISPreset = .fast, threads: Int = 1) {
        self.method = method
        self.preset = preset
        self.threads = max(1, threads)
        disOptions = DISOptions(preset: preset)
    }

    /// Forward flow from `first` to `second`; `initial` is the previous field on video (temporal propagation).
    public func flow(from first: GrayImage, to second: GrayImage,
                     initial: FlowField? = nil) throws(FlowError) -> FlowField {
        switch method {
        case .dis:
            return try DISOpticalFlow(options: disOptions, threads: threads)
                .flow(from: first, to: second, initial: initial)
        case .farneback:
            return try FarnebackOpticalFlow(options: farnebackOptions, threads: threads)
                .flow(from: first, to: second, initial: initial)
        }
    }
}
