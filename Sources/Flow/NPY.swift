// Flow fields and 8-bit frames as .npy arrays (Tensor's codec): what the CLI writes and what the OpenCV tooling
// reads. A field is an H×W×2 `<f4` array, a frame an H×W `|u1` array.
import Foundation
import Tensor

extension FlowField {
    /// The field as an H×W×2 `<f4` array.
    public var npyArray: NPYArray {
        let payload = values.withUnsafeBufferPointer { Data(buffer: $0) }
        return NPYArray(element: .float32, shape: [height, width, 2], payload: payload)
    }

    /// The field as `.npy` version 1.0 bytes.
    public func npyData() -> Data { npyArray.npyData() }

    /// Reads an H×W×2 `<f4` array written by `npyData()` (or NumPy with the same layout).
    public init(npy data: Data, path: String? = nil) throws {
        let array = try NPYArray(npy: data, path: path)
        guard array.element == .float32, array.shape.count == 3, array.shape[2] == 2 else {
            throw NPYError(path: path, "a flow field is an H×W×2 <f4 array, not \(array.element.rawValue) "
                + "of shape \(array.shape)")
        }
        var values = [Float](repeating: 0, count: array.shape[0] * array.shape[1] * 2)
        values.withUnsafeMutableBytes { destination in
            array.payload.withUnsafeBytes { destination.copyMemory(from: $0) }
        }
        self.init(width: array.shape[1], height: array.shape[0], values: values)
    }
}

extension GrayImage {
    /// The image as an H×W `|u1` array (rounded, clamped).
    public var npyArray: NPYArray {
        NPYArray(element: .uint8, shape: [height, width], payload: Data(quantizedBytes()))
    }

    /// The image as `.npy` version 1.0 bytes.
    public func npyData() -> Data { npyArray.npyData() }
}
