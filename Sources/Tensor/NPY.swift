// numpy `.npy` files (format versions 1.0, 2.0 and 3.0): read and write, little-endian, C order.
// Used for CLI inputs/outputs (`actiond infer`) and for reference fixtures produced by ONNX Runtime.
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

extension Tensor {
    private static let magic: [UInt8] = [0x93, 0x4E, 0x55, 0x4D, 0x50, 0x59]  // "\x93NUMPY"

    /// Parses `.npy` bytes. Supports dtypes <f4, <i8, <i4, |b1 (and |u1 read as bool-free uint8 → error).
    public init(npy data: Data, path: String? = nil) throws {
        let bytes = [UInt8](data)
        func fail(_ reason: String) -> NPYError { NPYError(path: path, reason) }
        guard bytes.count >= 10, Array(bytes[0..<6]) == Tensor.magic else {
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
        let descr = try Tensor.headerValue(header, key: "descr", path: path)
        let fortran = try Tensor.headerValue(header, key: "fortran_order", path: path)
        let shapeText = try Tensor.headerValue(header, key: "shape", path: path)
        guard fortran.hasPrefix("False") else { throw fail("Fortran-order arrays are not supported") }
        let typeCode = descr.trimmingCharacters(in: CharacterSet(charactersIn: "'\" "))
        let dtype: DType
        switch typeCode {
        case "<f4": dtype = .float32
        case "<i8": dtype = .int64
        case "<i4": dtype = .int32
        case "|b1": dtype = .bool
        default: throw fail("unsupported dtype '\(typeCode)' (expected <f4, <i8, <i4 or |b1)")
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
        let needed = elementCount(shape) * dtype.byteSize
        guard bytes.count - dataStart >= needed else {
            throw fail("truncated data: \(bytes.count - dataStart) bytes for shape \(shape) of \(dtype) (\(needed))")
        }
        self.init(zeros: shape, dtype: dtype)
        let destination = mutableRawPointer()
        bytes.withUnsafeBytes { destination.copyMemory(from: $0.baseAddress! + dataStart, byteCount: needed) }
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

    public init(npyFile path: String) throws {
        guard let data = FileManager.default.contents(atPath: path) else {
            throw NPYError(path: path, "cannot read file")
        }
        try self.init(npy: data, path: path)
    }

    /// The tensor as `.npy` version 1.0 bytes.
    public func npyData() -> Data {
        let descr: String
        switch dtype {
        case .float32: descr = "<f4"
        case .int64: descr = "<i8"
        case .int32: descr = "<i4"
        case .bool: descr = "|b1"
        }
        let shapeText = shape.count == 1 ? "(\(shape[0]),)" : "(" + shape.map(String.init).joined(separator: ", ") + ")"
        var header = "{'descr': '\(descr)', 'fortran_order': False, 'shape': \(shapeText), }"
        // Pad so that data starts on a 64-byte boundary; the header ends with a newline.
        let unpadded = 10 + header.utf8.count + 1
        header += String(repeating: " ", count: (64 - unpadded % 64) % 64) + "\n"
        var data = Data(Tensor.magic)
        data.append(contentsOf: [1, 0, UInt8(header.utf8.count & 0xFF), UInt8(header.utf8.count >> 8)])
        data.append(contentsOf: Array(header.utf8))
        data.append(Data(bytes: rawPointer, count: byteCount))
        return data
    }

    public func writeNPY(to path: String) throws {
        do {
            try npyData().write(to: URL(fileURLWithPath: path))
        } catch {
            throw NPYError(path: path, "cannot write: \(error.localizedDescription)")
        }
    }
}
