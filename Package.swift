// swift-tools-version:6.0
// actiond: video action-recognition daemon. Module layout and dependency direction: see README.md.
import PackageDescription

let argumentParser = Target.Dependency.product(name: "ArgumentParser", package: "swift-argument-parser")

let package = Package(
    name: "actiond",
    products: [
        .executable(name: "actiond", targets: ["actiond"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.5.0"),
        .package(url: "https://github.com/jpsim/Yams", from: "6.2.2"),
        .package(url: "https://github.com/apple/swift-log", from: "1.16.2"),
        .package(url: "https://github.com/swift-server/swift-service-lifecycle", from: "2.13.0"),
        .package(url: "https://github.com/groue/GRDB.swift", from: "7.10.0"),
    ],
    targets: [
        // Thin C modules: module map + shim header only.
        .systemLibrary(
            name: "CFFmpeg", pkgConfig: "libavformat libavcodec libswscale libavutil",
            providers: [.apt(["libavformat-dev", "libavcodec-dev", "libswscale-dev", "libavutil-dev"])]),
        .systemLibrary(name: "COpenBLAS", pkgConfig: "openblas", providers: [.apt(["libopenblas-dev"])]),

        // The value types every layer names (resize modes, flow methods and presets, pixel sizes and rectangles).
        .target(name: "Vocabulary"),
        // JSON string literals and fixed-decimal numbers, shared by every writer of JSON text.
        .target(name: "TextFormat"),
        // The one parallel-for (bands of a range, numbered workers) the kernels and the flow solvers split loops with.
        .target(name: "ParallelLoops"),
        // SplitMix64: the seeded generator the renderer, the tests and the fuzz campaigns draw from.
        .target(name: "SeededRandom"),
        .target(name: "Media", dependencies: ["CFFmpeg", "Vocabulary"]),
        .target(name: "Kernels", dependencies: ["COpenBLAS", "ParallelLoops"]),
        .target(name: "Tensor"),
        .target(name: "Inference", dependencies: ["Tensor", "Kernels"]),
        .target(name: "ONNX", dependencies: ["Inference", "Tensor"]),
        .target(name: "Flow", dependencies: ["Vocabulary", "Tensor", "ParallelLoops"]),
        // Ultralytics detect/pose heads: letterbox geometry, decoding, NMS, OKS. Knows nothing of video or tensors.
        .target(name: "Vision", dependencies: ["Vocabulary"]),
        // Config model + validation, typed ports and the stage graph, bounded queues: knows nothing of video or tensors.
        .target(name: "Pipeline", dependencies: ["Vocabulary", .product(name: "Yams", package: "Yams")]),
        .target(name: "Synth", dependencies: ["Media", "TextFormat", "SeededRandom"]),
        // Stages: wires Media, Flow and the engine into Pipeline stages (decode, flow, classify, smooth).
        .target(name: "Stages", dependencies: ["Pipeline", "Media", "Flow", "Inference", "ONNX", "Tensor",
                                         "TextFormat", "Synth", "Vision"]),
        // Daemon: `actiond run` — sources (watched folders, streams, files), journal, sinks, signals, systemd, metrics.
        .target(name: "Daemon", dependencies: [
            "Pipeline",
            "Stages",
            "Media",
            "TextFormat",
            .product(name: "GRDB", package: "GRDB.swift"),
            .product(name: "Logging", package: "swift-log"),
            .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
            .product(name: "UnixSignals", package: "swift-service-lifecycle"),
        ]),

        .executableTarget(name: "actiond", dependencies: [
            "Media",
            "Kernels",
            "Tensor",
            "Inference",
            "ONNX",
            "Flow",
            "Pipeline",
            "Synth",
            "Stages",
            "Daemon",
            "TextFormat",
            "Vision",
            argumentParser,
        ]),

        // Shared by the test targets: running programs, waiting on conditions, scratch folders, the seeded generator,
        // a one-stage harness.
        .target(name: "TestSupport", dependencies: ["SeededRandom", "Pipeline"], path: "Tests/TestSupport"),
        .testTarget(name: "MediaTests", dependencies: ["Media", "TestSupport"]),
        .testTarget(name: "KernelsTests", dependencies: ["Kernels", "TestSupport"]),
        .testTarget(name: "PipelineTests", dependencies: ["Pipeline", "TestSupport"], exclude: ["Fixtures"]),
        .testTarget(name: "SynthTests", dependencies: ["Synth", "Media", "TestSupport"]),
        // Runs the built executable end to end (swift build --build-tests builds it too).
        .testTarget(name: "actiondTests", dependencies: ["Media", "TestSupport"]),
        .testTarget(name: "TensorTests", dependencies: ["Tensor"]),
        .testTarget(name: "TextFormatTests", dependencies: ["TextFormat"]),
        .testTarget(name: "InferenceTests", dependencies: ["Inference", "Tensor", "Kernels", "TestSupport"]),
        // Fixtures are found through #filePath, so the (large) model files are not copied into a bundle.
        .testTarget(name: "ONNXTests", dependencies: ["ONNX", "Inference", "Tensor", "TestSupport"],
                    exclude: ["Fixtures"]),
        .testTarget(name: "StagesTests", dependencies: ["Stages", "Pipeline", "Media", "Flow", "Tensor", "ONNX", "Vision",
                                                        "Synth", "TestSupport"],
                    exclude: ["Fixtures"]),
        .testTarget(name: "DaemonTests", dependencies: ["Daemon", "Pipeline", "TextFormat", "TestSupport"]),
        // Parity with the ultralytics package on its own exports (tools/fixtures/make_yolo_fixtures.py; via #filePath).
        .testTarget(name: "VisionTests", dependencies: ["Vision", "Tensor", "SeededRandom"], exclude: ["Fixtures"]),
        .testTarget(name: "FlowTests", dependencies: ["Flow", "TestSupport"], resources: [.copy("Fixtures")]),
        // Deterministic mutation fuzzing (short in `make test`, long in `make fuzz`); corpora via #filePath.
        .target(name: "FuzzSupport", dependencies: ["SeededRandom"], path: "Tests/FuzzSupport"),
        .testTarget(name: "FuzzTests", dependencies: ["FuzzSupport", "ONNX", "Inference", "Tensor", "Pipeline",
                                                      "Daemon"], exclude: ["Corpus"]),
    ]
)
