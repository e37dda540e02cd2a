// numpy `.npy` files (format versions 1.0, 2.0 and 3.0): read and write, little-endian, C order.
// `NPYArray` is the codec (header and raw payload); `Tensor` and Flow's fields and frames are read and written
// through it. Used for CLI inputs/outputs (`actiond infer`, `actiond flow`) and for reference fixtures produced
// by ONNX Runtime and OpenCV tooling.
import Foundation

/// A `.npy` file that cannot be read or written, with the reason.
public struct NPYError: Error, CustomStringConvertible {
    public var path: String?
    public var reason: String

    public init(path: String? = nil, _ reason: String) {
        self.path = path
        self.reason = reason
    }

    public var description: String { path.map { "\($0): \(reason)" } ?? reason }
}

/// The element types read and written; the raw value is the header's `descr`.
public enum NPYElement: String, Sendable, CaseIterable {
    case float32 = "<f4"
    case int64 = "<i8"
    case int32 = "<i4"
    case bool = "|b1"
    case uint8 = "|u1"

    public var byteSize: Int {
        switch self {
        case .float32, .int32: return 4
        case .int64: return 8
        case .bool, .uint8: return 1
        }
    }
}

/// One `.npy` array: element type, shape and the C-order little-endian payload bytes.
public struct NPYArray: Sendable {
    private static let magic: [UInt8] = [0x93, 0x4E, 0x55, 0x4D, 0x50, 0x59]  // "\x93NUMPY"

    public var element: NPYElement
    public var shape: [Int]
    public var payload: Data

    public init(element: NPYElement, shape: [Int], payload: Data) {
        self.element = element
        self.shape = shape
        self.payload = payload
    }

    /// Parses `.npy` bytes; `path` only names the file in errors. The payload is exactly the shape's bytes.
    public init(npy data: Data, path: String? = nil) throws {
        let bytes = [UInt8](data)
        func fail(_ reason: String) -> NPYError { NPYError(path: path, reason) }
        guard bytes.count >= 10, Array(bytes[0..<6]) == NPYArray.magic else {
            throw fail("not a .npy file (missing \\x93NUMPY magic)")
        }
        let major = bytes[6]
        let headerLength: Int
        let headerStart: Int
        switch major {
        case 1:
            headerLength = Int(bytes[8]) | Int(bytes[9]) << 8
            headerStart = 10
        case 2, 3:
            guard bytes.count >= 12 else { throw fail("truncated header") }
            headerLength = Int(bytes[8]) | Int(bytes[9]) << 8 | Int(bytes[10]) << 16 | Int(bytes[11]) << 24
            headerStart = 12
        default:
            throw fail("unsupported .npy format version \(major).\(bytes[7])")
        }
        guard headerStart + headerLength <= bytes.count else { throw fail("truncated header") }
        guard let header = String(bytes: bytes[headerStart..<(headerStart + headerLength)], encoding: .utf8) else {
            throw fail("header is not text")
        }
        let descr = try NPYArray.headerValue(header, key: "descr", path: path)
        let fortran = try NPYArray.headerValue(header, key: "fortran_order", path: path)
        let shapeText = try NPYArray.headerValue(header, key: "shape", path: path)
        guard fortran.hasPrefix("False") else { throw fail("Fortran-order arrays are not supported") }
        let typeCode = descr.trimmingCharacters(in: CharacterSet(charactersIn: "'\" "))
        guard let element = NPYElement(rawValue: typeCode) else {
            throw fail("unsupported dtype '\(typeCode)' (expected <f4, <i8, <i4, |b1 or |u1)")
        }
        let inner = shapeText.trimmingCharacters(in: CharacterSet(charactersIn: "() "))
        var shape: [Int] = []
        for part in inner.split(separator: ",") {
            let trimmed = part.trimmingCharacters(in: .whitespaces)
            if trimmed.isEmpty { continue }
            guard let dim = Int(trimmed), dim >= 0 else { throw fail("bad shape '\(shapeText)'") }
            shape.append(dim)
        }
        let dataStart = headerStart + headerLength
        let needed = elementCount(shape) * element.byteSize
        guard bytes.count - dataStart >= needed else {
            throw fail(
                "truncated data: \(bytes.count - dataStart) bytes for shape \(shape) of \(element) (\(needed))")
        }
        let payloadStart = data.startIndex + dataStart
        self.init(element: element, shape: shape, payload: data[payloadStart..<(payloadStart + needed)])
    }

    /// Extracts the text after `'key':` up to the next top-level comma in a numpy header dict.
    private static func headerValue(_ header: String, key: String, path: String?) throws -> String {
        guard let keyRange = header.range(of: "'\(key)'") ?? header.range(of: "\"\(key)\"") else {
            throw NPYError(path: path, "header has no '\(key)'")
        }
        var rest = header[keyRange.upperBound...].drop { $0 == " " || $0 == ":" }
        if rest.first == "(" {
            guard let close = rest.firstIndex(of: ")") else { throw NPYError(path: path, "unclosed shape tuple") }
            return String(rest[...close])
        }
        if let end = rest.firstIndex(where: { $0 == "," || $0 == "}" }) { rest = rest[..<end] }
        return String(rest)
    }

    /// Reads the `.npy` file at `path`.
    public init(npyFile path: String) throws {
        guard let data = FileManager.default.contents(atPath: path) else {
            throw NPYError(path: path, "cannot read file")
        }
        try self.init(npy: data, path: path)
    }

    /// The array as `.npy` version 1.0 bytes.
    public func npyData() -> Data {
        let shapeText = shape.count == 1 ? "(\(shape[0]),)" : "(" + shape.map(String.init).joined(separator: ", ") + ")"
        var header = "{'descr': '\(element.rawValue)', 'fortran_order': False, 'shape': \(shapeText), }"
        // Pad so that data starts on a 64-byte boundary; the header ends with a newline.
        let unpadded = 10 + header.utf8.count + 1
        header += String(repeating: " ", count: (64 - unpadded % 64) % 64) + "\n"
        var data = Data(NPYArray.magic)
        data.append(contentsOf: [1, 0, UInt8(header.utf8.count & 0xFF), UInt8(header.utf8.count >> 8)])
        data.append(contentsOf: Array(header.utf8))
        data.append(payload)
        return data
    }

    /// Writes the array to `path` as a `.npy` version 1.0 file.
    public func write(to path: String) throws {
        do {
            try npyData().write(to: URL(fileURLWithPath: path))
        } catch {
            throw NPYError(path: path, "cannot write: \(error.localizedDescription)")
        }
    }
}

extension Tensor {
    /// Parses `.npy` bytes. Supports dtypes <f4, <i8, <i4 and |b1 (a |u1 array has no tensor type: an error).
    public init(npy data: Data, path: String? = nil) throws {
        let array = try NPYArray(npy: data, path: path)
        let dtype: DType
        switch array.element {
        case .float32: dtype = .float32
        case .int64: dtype = .int64
        case .int32: dtype = .int32
        case .bool: dtype = .bool
        case .uint8: throw NPYError(path: path, "unsupported dtype '|u1' (expected <f4, <i8, <i4 or |b1)")
        }
        self.init(zeros: array.shape, dtype: dtype)
        let destination = mutableRawPointer()
        array.payload.withUnsafeBytes { source in
            if let base = source.baseAddress { destination.copyMemory(from: base, byteCount: source.count) }
        }
    }

    public init(npyFile path: String) throws {
        guard let data = FileManager.default.contents(atPath: path) else {
            throw NPYError(path: path, "cannot read file")
        }
        try self.init(npy: data, path: path)
    }

    /// The tensor as `.npy` version 1.0 bytes.
    public func npyData() -> Data { npyArray.npyData() }

    /// The tensor's dtype, shape and bytes as a `.npy` array.
    public var npyArray: NPYArray {
        let element: NPYElement
        switch dtype {
        case .float32: element = .float32
        case .int64: element = .int64
        case .int32: element = .int32
        case .bool: element = .bool
        }
        return NPYArray(element: element, shape: shape, payload: Data(bytes: rawPointer, count: byteCount))
    }

    public func writeNPY(to path: String) throws {
        try npyArray.write(to: path)
    }
}
