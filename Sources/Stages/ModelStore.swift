// The process's compiled models. Every pipeline that runs a graph gets it from here, so a model is loaded and its
// weights packed once however many files and streams use it; each user gets a runner with buffers of its own.
// A graph is keyed by its file's identity (device, inode, size, mtime) as well as its path and input shape: a
// model file replaced on disk is compiled again at the next config load, an unchanged one never is.
import Foundation
import Inference
import ONNX
import Synchronization

public final class ModelStore: Sendable {
    struct Key: Hashable, Sendable {
        var path: String
        var device: UInt64
        var inode: UInt64
        var size: Int64
        var modified: Int64
        var input: String?
        var output: String?
        var shape: [Int]
    }

    private struct State {
        var graphs: [Key: CompiledGraph] = [:]
        /// Compilations by (model name, graph path), in the order they happened.
        var compilations: [(model: String, graph: String)] = []
        var observer: (@Sendable (String, String) -> Void)?
    }

    private let state = Mutex(State())

    public init() {}

    /// The compiled graph for `path` fed `shape` (one sample), compiling it on first use. `model` names it in
    /// the compilation count (the config's model name).
    public func graph(model: String, path: String, input: String?, output: String?, shape: [Int]) throws
        -> CompiledGraph
    {
        var info = stat()
        guard stat(path, &info) == 0 else {
            throw ModelError(.badInput, "cannot read the file: \(String(cString: strerror(errno)))", model: path)
        }
        let key = Key(path: path, device: UInt64(info.st_dev), inode: UInt64(info.st_ino), size: Int64(info.st_size),
                      modified: Int64(info.st_mtim.tv_sec) * 1_000_000_000 + Int64(info.st_mtim.tv_nsec),
                      input: input, output: output, shape: shape)
        if let cached = state.withLock({ $0.graphs[key] }) { return cached }
        // Compiled outside the lock: a second config load compiling the same graph at the same moment costs a
        // second compile, never a wait behind an unrelated one.
        let compiled = try CompiledGraph(path: path, inputName: input, outputName: output, shape: shape)
        let (kept, observer) = state.withLock { s -> (CompiledGraph, (@Sendable (String, String) -> Void)?) in
            if let raced = s.graphs[key] { return (raced, nil) }
            s.graphs[key] = compiled
            s.compilations.append((model, path))
            return (compiled, s.observer)
        }
        observer?(model, path)
        return kept
    }

    /// How many times each (model, graph file) was compiled.
    public var compilations: [String: Int] {
        state.withLock { s in
            var counts: [String: Int] = [:]
            for entry in s.compilations { counts["\(entry.model)\t\(entry.graph)", default: 0] += 1 }
            return counts
        }
    }

    /// Calls `observer(model, graph path)` for every compilation so far and every later one (metrics).
    public func observeCompilations(_ observer: @escaping @Sendable (String, String) -> Void) {
        let past = state.withLock { s in
            s.observer = observer
            return s.compilations
        }
        for entry in past { observer(entry.model, entry.graph) }
    }

    /// Forgets every graph not in `keep` (after a reload: models the new config no longer uses). Runners in use
    /// keep their graph alive until they finish.
    public func retain(only keep: [CompiledGraph]) {
        let ids = Set(keep.map(ObjectIdentifier.init))
        state.withLock { s in s.graphs = s.graphs.filter { ids.contains(ObjectIdentifier($0.value)) } }
    }

    /// Graphs held now.
    public var count: Int { state.withLock { $0.graphs.count } }
}
