// Text for the daemon's own log lines: names shown so that no file name can split or forge a line, and Foundation
// errors reduced to their reason (never a raw `Error Domain=… UserInfo={…}` dump).
import Foundation

extension String {
    /// The text with control characters written as escapes (`\n`, `\r`, `\t`, `\u{1b}`), so a file name with a
    /// newline cannot split a log line in two.
    var loggable: String {
        guard unicodeScalars.contains(where: Self.isControl) else { return self }
        var out = ""
        for scalar in unicodeScalars {
            switch scalar {
            case "\n": out += "\\n"
            case "\r": out += "\\r"
            case "\t": out += "\\t"
            case _ where Self.isControl(scalar): out += "\\u{\(String(scalar.value, radix: 16))}"
            default: out.unicodeScalars.append(scalar)
            }
        }
        return out
    }

    /// The text with every occurrence of `name` (a path the text quotes, e.g. in a decoder's message) written
    /// `loggable`, leaving the text's own line breaks (indented details) as they are.
    func loggable(replacing name: String) -> String {
        let shown = name.loggable
        return shown == name ? self : replacingOccurrences(of: name, with: shown)
    }

    /// The longest prefix of at most `bytes` UTF-8 bytes that ends on a character boundary.
    func truncatedToUTF8(_ bytes: Int) -> String {
        guard utf8.count > bytes else { return self }
        var result = ""
        var used = 0
        for character in self {
            let size = character.utf8.count
            if used + size > bytes { break }
            result.append(character)
            used += size
        }
        return result
    }

    private static func isControl(_ scalar: Unicode.Scalar) -> Bool {
        scalar.value < 0x20 || scalar.value == 0x7F || (0x80..<0xA0).contains(scalar.value)
    }
}

/// Why a file operation failed, in a few words: the POSIX reason behind a Foundation error (e.g. "Not a
/// directory", "File name too long"), else its localized description; other errors as they describe themselves.
func plainReason(_ error: Error) -> String {
    let ns = error as NSError
    if ns.domain == NSPOSIXErrorDomain { return String(cString: strerror(Int32(ns.code))) }
    guard ns.domain == NSCocoaErrorDomain else { return "\(error)" }
    if let underlying = ns.userInfo[NSUnderlyingErrorKey] as? NSError, underlying.domain == NSPOSIXErrorDomain {
        return String(cString: strerror(Int32(underlying.code)))
    }
    return ns.localizedDescription
}

/// A folder could not be made: which one and why, in one line.
struct FolderError: Error, CustomStringConvertible {
    var folder: String
    var reason: String
    var description: String { "\(folder): \(reason)" }
}

/// Makes `path` and any missing parents (`mkdir -p`, mode 0755), saying which part failed and why: "… is a file, not
/// a folder", or the system's reason ("Permission denied", "No space left on device").
func makeFolders(_ path: String) throws(FolderError) {
    var info = stat()
    if stat(path, &info) == 0 {
        guard info.st_mode & S_IFMT == S_IFDIR else {
            throw FolderError(folder: path, reason: "is a file, not a folder")
        }
        return
    }
    let parent = (path as NSString).deletingLastPathComponent
    if !parent.isEmpty, parent != path { try makeFolders(parent) }
    if mkdir(path, 0o755) != 0, errno != EEXIST {
        throw FolderError(folder: path, reason: "cannot create it: \(String(cString: strerror(errno)))")
    }
}
