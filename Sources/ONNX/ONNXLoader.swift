// Reading an .onnx file and compiling it into a Session: the ONNX module's entry point.
import Foundation
#if canImport(Glibc)
import Glibc
#endif
import Inference
import Tensor

extension ONNXModel {
    /// Decodes a model from bytes; malformed input throws `ModelError` (kind `.malformed`), never traps.
    public init(bytes: Data, path: String? = nil) throws {
        self = try bytes.withUnsafeBytes { buffer in
            try ONNXDecoder(modelPath: path).decodeModel(buffer)
        }
    }

    /// Reads and decodes the model file at `path`. The file is memory-mapped and the pages of each weight are
    /// returned to the kernel as soon as the weight is copied out, so decoding a 130 MB model does not hold
    /// the file and the decoded weights in memory at the same time.
    public init(contentsOf path: String) throws {
        guard FileManager.default.fileExists(atPath: path) else {
            throw ModelError(.badInput, "no such file", model: path)
        }
        let mapping = try MappedFile(path: path)
        defer { mapping.close() }
        var decoder = ONNXDecoder(modelPath: path)
        decoder.consumed = { range in mapping.release(range) }
        self = try decoder.decodeModel(mapping.bytes)
    }

    /// Op types in the graph that the registry does not implement (with their counts).
    public var unsupportedOps: [String: Int] {
        var result: [String: Int] = [:]
        for node in graph.nodes where !OpRegistry.isSupported(node.opType, domain: node.domain) {
            result[node.domain.isEmpty ? node.opType : "\(node.domain).\(node.opType)", default: 0] += 1
        }
        return result
    }

    /// Compiles the graph: every shape inferred, constants folded, buffers planned, weights packed.
    public func makeSession(options: SessionOptions = SessionOptions()) throws -> Session {
        try Session(graph: graph, makeOperator: OpRegistry.make, options: options)
    }

    /// Loads `path` and compiles it in one step; the decoded graph is handed over (consumed), so each weight is
    /// freed as soon as it is packed.
    public static func loadSession(_ path: String, inputShapes: [String: [Int]] = [:]) throws -> Session {
        let graph = try ONNXModel(contentsOf: path).graph
        return try Session(graph: consume graph, makeOperator: OpRegistry.make,
                           options: SessionOptions(inputShapes: inputShapes, modelPath: path))
    }
}

/// A read-only private memory mapping of a whole file.
final class MappedFile {
    let bytes: UnsafeRawBufferPointer
    private var isOpen = true

    init(path: String) throws {
        let descriptor = open(path, O_RDONLY | O_CLOEXEC)
        guard descriptor >= 0 else {
            throw ModelError(.badInput, "cannot open: \(String(cString: strerror(errno)))", model: path)
        }
        defer { _ = Glibc.close(descriptor) }
        var status = stat()
        guard fstat(descriptor, &status) == 0 else {
            throw ModelError(.badInput, "cannot stat: \(String(cString: strerror(errno)))", model: path)
        }
        let size = Int(status.st_size)
        guard size > 0 else {
            bytes = UnsafeRawBufferPointer(start: nil, count: 0)
            isOpen = false
            return
        }
        guard let address = mmap(nil, size, PROT_READ, MAP_PRIVATE, descriptor, 0), address != MAP_FAILED else {
            throw ModelError(.badInput, "cannot map: \(String(cString: strerror(errno)))", model: path)
        }
        bytes = UnsafeRawBufferPointer(start: address, count: size)
    }

    /// Drops the whole pages inside `range` from memory (they are re-read from the file if touched again).
    func release(_ range: Range<Int>) {
        guard isOpen, let base = bytes.baseAddress else { return }
        let page = Int(sysconf(Int32(_SC_PAGESIZE)))
        let start = (range.lowerBound + page - 1) / page * page
        let end = range.upperBound / page * page
        guard end > start else { return }
        _ = madvise(UnsafeMutableRawPointer(mutating: base + start), end - start, MADV_DONTNEED)
    }

    func close() {
        guard isOpen, let base = bytes.baseAddress else { return }
        munmap(UnsafeMutableRawPointer(mutating: base), bytes.count)
        isOpen = false
    }

    deinit { close() }
}
