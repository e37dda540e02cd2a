// Argument types shared by several subcommands.
import ArgumentParser
import Media

/// A `WxH` size argument, e.g. `320x240`.
struct Size: ExpressibleByArgument, CustomStringConvertible {
    var width: Int
    var height: Int

    init?(argument: String) {
        let parts = argument.lowercased().split(separator: "x")
        guard parts.count == 2, let w = Int(parts[0]), let h = Int(parts[1]), w > 0, h > 0, w <= 16384, h <= 16384
        else { return nil }
        width = w
        height = h
    }

    init(width: Int, height: Int) {
        self.width = width
        self.height = height
    }

    var description: String { "\(width)x\(height)" }
    static var defaultCompletionKind: CompletionKind { .default }
}

extension ResizeMode: ExpressibleByArgument {}
extension VideoCodec: ExpressibleByArgument {}

/// Median of a non-empty list.
func median(_ values: [Double]) -> Double {
    let sorted = values.sorted()
    let mid = sorted.count / 2
    return sorted.count % 2 == 1 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2
}
