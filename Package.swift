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
    ],
    targets: [
        // Thin C modules: module map + shim header only.
        .systemLibrary(
            name: "CFFmpeg", pkgConfig: "libavformat libavcodec libswscale libavutil",
            providers: [.apt(["libavformat-dev", "libavcodec-dev", "libswscale-dev", "libavutil-dev"])]),
        .systemLibrary(name: "COpenBLAS", pkgConfig: "openblas", providers: [.apt(["libopenblas-dev"])]),

        .target(name: "Media", dependencies: ["CFFmpeg"]),
        .target(name: "Kernels", dependencies: ["COpenBLAS"]),
        .target(name: "Synth", dependencies: ["Media"]),

        .executableTarget(name: "actiond", dependencies: [
            "Media",
            "Kernels",
            "Synth",
            argumentParser,
        ]),

        .testTarget(name: "MediaTests", dependencies: ["Media"]),
        .testTarget(name: "KernelsTests", dependencies: ["Kernels"]),
        .testTarget(name: "SynthTests", dependencies: ["Synth", "Media"]),
        // Runs the built executable end to end (swift build --build-tests builds it too).
        .testTarget(name: "actiondTests", dependencies: ["Media"]),
    ]
)
