// A minimal protobuf wire-format reader (varint, fixed32/64, length-delimited, packed repeated), enough for
// the ONNX messages. Hand-written rather than generated: no codegen plugin in the build, and every read is
// bounds-checked so truncated or random input becomes a typed error instead of a crash.

/// Where and why the protobuf bytes could not be decoded.
struct ProtobufError: Error, CustomStringConvertible {
    var offset: Int
    var reason: String
    var description: String { "malformed protobuf at byte \(offset): \(reason)" }
}

/// Reads fields from `bytes[start..<end]`. Copy it to read a nested message with `nested`.
struct ProtobufReader {
    enum WireType: Int {
        case varint = 0, fixed64 = 1, lengthDelimited = 2, startGroup = 3, endGroup = 4, fixed32 = 5
    }

    let bytes: UnsafeRawBufferPointer
    private(set) var position: Int
    let end: Int

    init(_ bytes: UnsafeRawBufferPointer, range: Range<Int>? = nil) {
        self.bytes = bytes
        position = range?.lowerBound ?? 0
        end = range?.upperBound ?? bytes.count
    }

    var isAtEnd: Bool { position >= end }

    mutating func varint() throws -> UInt64 {
        var result: UInt64 = 0
        var shift: UInt64 = 0
        while true {
            guard position < end else { throw ProtobufError(offset: position, reason: "truncated varint") }
            let byte = bytes[position]
            position += 1
            guard shift < 64 else { throw ProtobufError(offset: position, reason: "varint longer than 10 bytes") }
            result |= UInt64(byte & 0x7F) << shift
            if byte & 0x80 == 0 { return result }
            shift += 7
        }
    }

    /// The next field's number and wire type, or nil at the end of the message.
    mutating func field() throws -> (number: Int, wire: WireType)? {
        guard !isAtEnd else { return nil }
        let start = position
        let key = try varint()
        guard let wire = WireType(rawValue: Int(key & 7)) else {
            throw ProtobufError(offset: start, reason: "unknown wire type \(key & 7)")
        }
        let number = Int(key >> 3)
        guard number > 0 else { throw ProtobufError(offset: start, reason: "field number 0") }
        return (number, wire)
    }

    mutating func fixed32() throws -> UInt32 {
        guard end - position >= 4 else { throw ProtobufError(offset: position, reason: "truncated fixed32") }
        var value: UInt32 = 0
        for i in 0..<4 { value |= UInt32(bytes[position + i]) << (8 * UInt32(i)) }
        position += 4
        return value
    }

    mutating func fixed64() throws -> UInt64 {
        guard end - position >= 8 else { throw ProtobufError(offset: position, reason: "truncated fixed64") }
        var value: UInt64 = 0
        for i in 0..<8 { value |= UInt64(bytes[position + i]) << (8 * UInt64(i)) }
        position += 8
        return value
    }

    /// The byte range of a length-delimited field's payload (the reader moves past it).
    mutating func lengthDelimited() throws -> Range<Int> {
        let start = position
        let length = try varint()
        guard length <= UInt64(end - position) else {
            throw ProtobufError(offset: start, reason: "length \(length) runs past the end of the message")
        }
        let range = position..<(position + Int(length))
        position = range.upperBound
        return range
    }

    func nested(_ range: Range<Int>) -> ProtobufReader { ProtobufReader(bytes, range: range) }

    mutating func string() throws -> String {
        let range = try lengthDelimited()
        return String(decoding: UnsafeRawBufferPointer(rebasing: bytes[range]), as: UTF8.self)
    }

    mutating func skip(_ wire: WireType) throws {
        switch wire {
        case .varint: _ = try varint()
        case .fixed64: _ = try fixed64()
        case .fixed32: _ = try fixed32()
        case .lengthDelimited: _ = try lengthDelimited()
        case .startGroup, .endGroup:
            throw ProtobufError(offset: position, reason: "groups are not used by ONNX")
        }
    }

    mutating func int64(_ wire: WireType) throws -> Int64 {
        guard wire == .varint else { throw ProtobufError(offset: position, reason: "expected a varint field") }
        return Int64(bitPattern: try varint())
    }

    /// A repeated varint field, packed or not, appended to `values`.
    mutating func appendVarints(_ wire: WireType, to values: inout [Int64]) throws {
        if wire == .lengthDelimited {
            var packed = nested(try lengthDelimited())
            while !packed.isAtEnd { values.append(Int64(bitPattern: try packed.varint())) }
        } else {
            values.append(try int64(wire))
        }
    }

    /// A repeated float field, packed or not.
    mutating func appendFloats(_ wire: WireType, to values: inout [Float]) throws {
        if wire == .lengthDelimited {
            var packed = nested(try lengthDelimited())
            while !packed.isAtEnd { values.append(Float(bitPattern: try packed.fixed32())) }
        } else if wire == .fixed32 {
            values.append(Float(bitPattern: try fixed32()))
        } else {
            throw ProtobufError(offset: position, reason: "expected a float field")
        }
    }

    /// A repeated double field, packed or not.
    mutating func appendDoubles(_ wire: WireType, to values: inout [Double]) throws {
        if wire == .lengthDelimited {
            var packed = nested(try lengthDelimited())
            while !packed.isAtEnd { values.append(Double(bitPattern: try packed.fixed64())) }
        } else if wire == .fixed64 {
            values.append(Double(bitPattern: try fixed64()))
        } else {
            throw ProtobufError(offset: position, reason: "expected a double field")
        }
    }
}
