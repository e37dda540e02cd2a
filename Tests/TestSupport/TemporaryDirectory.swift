// Scratch folders for tests: a fresh, uniquely named folder under the system's temporary directory, removed
// with everything in it by `remove()` (typically in a `defer` or a teardown block).
import Foundation

/// A folder that exists from `init` until `remove()`.
public struct TemporaryDirectory: Sendable {
    /// The folder.
    public let url: URL
    /// The folder's path.
    public var path: String { url.path }

    /// Creates `<tmp>/<prefix>-<UUID>`.
    public init(_ prefix: String = "actiond-test") throws {
        url = FileManager.default.temporaryDirectory.appendingPathComponent("\(prefix)-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
    }

    /// `name` inside the folder.
    public func appending(_ name: String) -> URL { url.appendingPathComponent(name) }

    /// Removes the folder and everything in it; safe to call more than once.
    public func remove() { try? FileManager.default.removeItem(at: url) }
}
