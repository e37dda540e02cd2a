// Minimal .npy (NumPy format 1.0) writer/reader for flow fields and 8-bit frames: what the CLI writes and what
// the OpenCV tooling reads. Only the dtypes Flow needs: little-endian float32 and uint8, C order.
import Foundation

public enum NPY {
    /// Bytes of a .npy file holding `payload` with the given dtype descriptor and shape.
    static func encode(descr: String, shape: [Int], payload: Data) -> Data {
        let dims = shape.count == 1 ? "\(shape[0])," : shape.map(String.init).joined(separator: ", ")
        var header = "{'descr': '\(descr)', 'fortran_order': False, 'shape': (\(dims)), }"
        // Magic (6) + version (2) + header length (2) + header, padded with spaces to a multiple of 64, then \n.
        let unpadded = 10 + header.utf8.count + 1
        header += String(repeating: " ", count: (64 - unpadded % 64) % 64) + "\n"
        var data = Data([0x93]) + Data("NUMPY".utf8) + Data([1, 0])
        let length = UInt16(header.utf8.count)
        data.append(contentsOf: [UInt8(length & 0xFF), UInt8(length >> 8)])
        data.append(Data(header.utf8))
        data.append(payload)
        return data
    }

    /// A flow field as an H×W×2 `<f4` array.
    public static func encode(_ flow: FlowField) -> Data {
        let payload = flow.values.withUnsafeBufferPointer { Data(buffer: $0) }
        return encode(descr: "<f4", shape: [flow.height, flow.width, 2], payload: payload)
    }

    /// An image as an H×W `|u1` array (rounded, clamped).
    public static func encode(_ image: GrayImage) -> Data {
        encode(descr: "|u1", shape: [image.height, image.width], payload: Data(image.quantizedBytes()))
    }

    /// Reads an H×W×2 `<f4` array written by `encode(_: FlowField)` (or NumPy with the same layout).
    public static func decodeFlow(_ data: Data) -> FlowField? {
        let bytes = [UInt8](data)
        guard bytes.count > 10, bytes[0] == 0x93, bytes[1] == 0x4E else { return nil }
        let headerLength = Int(bytes[8]) | Int(bytes[9]) << 8
        guard bytes.count >= 10 + headerLength,
              let header = String(bytes: bytes[10..<(10 + headerLength)], encoding: .ascii),
              header.contains("'<f4'"), header.contains("'fortran_order': False"),
              let open = header.firstIndex(of: "("), let close = header.firstIndex(of: ")") else { return nil }
        let shape = header[header.index(after: open)..<close].split(separator: ",")
            .compactMap { Int($0.trimmingCharacters(in: .whitespaces)) }
        guard shape.count == 3, shape[2] == 2 else { return nil }
        let count = shape[0] * shape[1] * 2
        let start = 10 + headerLength
        guard bytes.count >= start + 4 * count else { return nil }
        var values = [Float](repeating: 0, count: count)
        values.withUnsafeMutableBytes { dst in
            bytes.withUnsafeBytes { src in
                dst.copyMemory(from: UnsafeRawBufferPointer(rebasing: src[start..<(start + 4 * count)]))
            }
        }
        return FlowField(width: shape[1], height: shape[0], values: values)
    }
}
