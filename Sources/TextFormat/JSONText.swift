// The text forms every JSON writer in actiond shares: string literals and fixed-decimal numbers. Lines are
// built by hand (key order and number formats fixed byte for byte), so there is one escaper and one number
// format, and every output — event logs, ground truth, dataset indexes, `classify --json` — agrees.
import Foundation

/// `text` as a JSON string literal, quotes included (RFC 8259): `"` and `\` are escaped, control characters
/// U+0000–U+001F become `\b \t \n \f \r` or `\u00XX`; everything else, non-ASCII and `/` included, stays as
/// UTF-8. The same bytes as `JSONEncoder` with `.withoutEscapingSlashes`.
public func jsonString(_ text: String) -> String {
    let utf8 = text.utf8
    if !utf8.contains(where: { $0 < 0x20 || $0 == 0x22 || $0 == 0x5C }) { return "\"" + text + "\"" }
    let hex: [UInt8] = Array("0123456789abcdef".utf8)
    var out: [UInt8] = []
    out.reserveCapacity(utf8.count + 16)
    out.append(0x22)
    for byte in utf8 {
        switch byte {
        case 0x22: out += [0x5C, 0x22]
        case 0x5C: out += [0x5C, 0x5C]
        case 0x08: out += [0x5C, UInt8(ascii: "b")]
        case 0x09: out += [0x5C, UInt8(ascii: "t")]
        case 0x0A: out += [0x5C, UInt8(ascii: "n")]
        case 0x0C: out += [0x5C, UInt8(ascii: "f")]
        case 0x0D: out += [0x5C, UInt8(ascii: "r")]
        case 0..<0x20:
            out += [0x5C, UInt8(ascii: "u"), 0x30, 0x30, hex[Int(byte >> 4)], hex[Int(byte & 0xF)]]
        default: out.append(byte)
        }
    }
    out.append(0x22)
    return String(decoding: out, as: UTF8.self)
}

/// `value` with exactly `digits` decimals (`%.Nf`: the binary value correctly rounded, `.` as the separator
/// whatever the locale), never an exponent; `-0.000` is written `0.000`, and non-finite values, which JSON
/// cannot hold, `null`.
public func decimal(_ value: Double, digits: Int) -> String {
    guard value.isFinite else { return "null" }
    let text = String(format: "%.\(digits)f", value)
    if text.hasPrefix("-"), !text.utf8.contains(where: { $0 >= 0x31 && $0 <= 0x39 }) {
        return String(text.dropFirst())
    }
    return text
}
