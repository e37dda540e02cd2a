// Tensor storage and .npy round trips, including the header variants numpy writes and malformed files.
import Foundation
import Testing
import Tensor

@Suite struct NPYTests {
    @Test func roundTripsEveryDType() throws {
        let tensors = [
            Tensor(shape: [2, 3], floats: [1, -2, 3.5, 0, 1e-7, -1e9]),
            Tensor(shape: [4], int64s: [1, -1, Int64.max, Int64.min]),
            Tensor(shape: [1, 2], int32s: [7, -7]),
            Tensor(shape: [3], bools: [true, false, true]),
            Tensor(shape: [], floats: [42]),
            Tensor(shape: [0, 5], floats: []),
        ]
        for tensor in tensors {
            let data = tensor.npyData()
            #expect(data.count % 64 == tensor.byteCount % 64)
            let back = try Tensor(npy: data)
            #expect(back.dtype == tensor.dtype)
            #expect(back.shape == tensor.shape)
            #expect(Data(bytes: back.rawPointer, count: back.byteCount) ==
                Data(bytes: tensor.rawPointer, count: tensor.byteCount))
        }
    }

    @Test func readsVersion2Header() throws {
        let header = "{'descr': '<f4', 'fortran_order': False, 'shape': (2,), }          \n"
        var data = Data([0x93, 0x4E, 0x55, 0x4D, 0x50, 0x59, 2, 0])
        let length = UInt32(header.utf8.count)
        data.append(contentsOf: [UInt8(length & 0xFF), UInt8(length >> 8 & 0xFF), 0, 0])
        data.append(contentsOf: Array(header.utf8))
        for value: Float in [1.5, -2] { withUnsafeBytes(of: value) { data.append(contentsOf: $0) } }
        let tensor = try Tensor(npy: data)
        #expect(tensor.shape == [2])
        #expect(tensor.floats == [1.5, -2])
    }

    @Test func rejectsMalformedFiles() {
        let good = Tensor(shape: [8], floats: Array(repeating: 1, count: 8)).npyData()
        #expect(throws: NPYError.self) { try Tensor(npy: Data([1, 2, 3])) }
        #expect(throws: NPYError.self) { try Tensor(npy: good.prefix(good.count - 4)) }
        #expect(throws: NPYError.self) { try Tensor(npy: good.prefix(20)) }
        var bigEndian = good
        if let range = bigEndian.range(of: Data("<f4".utf8)) {
            bigEndian.replaceSubrange(range, with: Data(">f4".utf8))
        }
        #expect(throws: NPYError.self) { try Tensor(npy: bigEndian) }
        var fortran = good
        if let range = fortran.range(of: Data("False".utf8)) {
            fortran.replaceSubrange(range, with: Data("True ".utf8))
        }
        #expect(throws: NPYError.self) { try Tensor(npy: fortran) }
    }

    @Test func copiesOnWrite() {
        var a = Tensor(shape: [2], floats: [1, 2])
        let b = a
        a.mutableRawPointer().assumingMemoryBound(to: Float.self)[0] = 9
        #expect(a.floats == [9, 2])
        #expect(b.floats == [1, 2])
        #expect(b.reshaped([1, 2]).shape == [1, 2])
        #expect(contiguousStrides([2, 3, 4]) == [12, 4, 1])
    }
}
