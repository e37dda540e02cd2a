// Config and model-card problems as `file:line:col: error: message` diagnostics. Validation collects every
// problem it finds (not just the first) so one `actiond check` run shows the user all there is to fix.
import Foundation

/// One problem in a config or model-card file, at a position the user can jump to.
public struct ConfigDiagnostic: Error, Sendable, Hashable, CustomStringConvertible {
    /// Path of the YAML file as the user named it (relative paths stay relative).
    public var file: String
    /// 1-based line and column (columns count Unicode scalars, as libyaml does).
    public var line: Int
    public var column: Int
    /// What was expected there and how to fix it.
    public var message: String
    public var severity: Severity

    /// Errors reject the config; warnings point at something that runs but is probably not what was meant.
    public enum Severity: String, Sendable, Hashable {
        case error, warning
    }

    public init(file: String, line: Int, column: Int, message: String, severity: Severity = .error) {
        self.file = file
        self.line = line
        self.column = column
        self.message = message
        self.severity = severity
    }

    /// A diagnostic at a place the config or a card names.
    public init(at location: ConfigLocation, _ message: String, severity: Severity = .error) {
        self.init(file: location.file, line: location.line, column: location.column, message: message,
                  severity: severity)
    }

    public var description: String { "\(file):\(line):\(column): \(severity.rawValue): \(message)" }
}

/// Every problem found in a config and the model cards it references. Thrown before any frame is decoded.
public struct ConfigError: Error, Sendable, CustomStringConvertible, LocalizedError {
    /// Sorted: the config file first, then each model card in the order it is first referenced; by line and
    /// column within a file.
    public var diagnostics: [ConfigDiagnostic]

    public init(_ diagnostics: [ConfigDiagnostic]) { self.diagnostics = diagnostics }

    public var description: String { diagnostics.map(\.description).joined(separator: "\n") }
    public var errorDescription: String? { description }
}

/// Collects diagnostics across files and sorts them by position when done.
final class DiagnosticLog {
    private(set) var diagnostics: [ConfigDiagnostic] = []
    private(set) var warningList: [ConfigDiagnostic] = []
    /// Files in the order they were first mentioned: the sort key across files.
    private var fileOrder: [String: Int] = [:]

    func register(file: String) {
        if fileOrder[file] == nil { fileOrder[file] = fileOrder.count }
    }

    func error(_ message: String, file: String, line: Int, column: Int) {
        register(file: file)
        diagnostics.append(ConfigDiagnostic(file: file, line: line, column: column, message: message))
    }

    func warning(_ message: String, file: String, line: Int, column: Int) {
        register(file: file)
        warningList.append(ConfigDiagnostic(file: file, line: line, column: column, message: message,
                                            severity: .warning))
    }

    /// True when there are no errors (warnings do not count).
    var isEmpty: Bool { diagnostics.isEmpty }

    /// Errors sorted by (file, line, column); duplicates (same text at the same place) removed.
    var sorted: [ConfigDiagnostic] { sort(diagnostics) }
    /// Warnings, sorted the same way.
    var warnings: [ConfigDiagnostic] { sort(warningList) }

    private func sort(_ diagnostics: [ConfigDiagnostic]) -> [ConfigDiagnostic] {
        var seen = Set<ConfigDiagnostic>()
        let unique = diagnostics.filter { seen.insert($0).inserted }
        return unique.enumerated().sorted { a, b in
            let fa = fileOrder[a.element.file] ?? Int.max, fb = fileOrder[b.element.file] ?? Int.max
            if fa != fb { return fa < fb }
            if a.element.line != b.element.line { return a.element.line < b.element.line }
            if a.element.column != b.element.column { return a.element.column < b.element.column }
            return a.offset < b.offset
        }.map(\.element)
    }
}

/// Suggests the closest known word for a misspelt one ("treshold" → "threshold"), or nil when nothing is close.
func suggestion(for word: String, among candidates: [String]) -> String? {
    let lowered = word.lowercased()
    var best: (String, Int)?
    for candidate in candidates {
        let distance = editDistance(lowered, candidate.lowercased())
        // Allow about one edit per three letters, at least one: close enough to be a typo, not a different word.
        let limit = max(1, min(3, candidate.count / 3))
        if distance <= limit, best == nil || distance < best!.1 { best = (candidate, distance) }
    }
    return best?.0
}

/// Levenshtein distance (insert, delete, substitute), with adjacent transposition counted as one edit.
func editDistance(_ a: String, _ b: String) -> Int {
    let a = Array(a), b = Array(b)
    if a.isEmpty { return b.count }
    if b.isEmpty { return a.count }
    var d = [[Int]](repeating: [Int](repeating: 0, count: b.count + 1), count: a.count + 1)
    for i in 0...a.count { d[i][0] = i }
    for j in 0...b.count { d[0][j] = j }
    for i in 1...a.count {
        for j in 1...b.count {
            let cost = a[i - 1] == b[j - 1] ? 0 : 1
            d[i][j] = min(d[i - 1][j] + 1, d[i][j - 1] + 1, d[i - 1][j - 1] + cost)
            if i > 1, j > 1, a[i - 1] == b[j - 2], a[i - 2] == b[j - 1] { d[i][j] = min(d[i][j], d[i - 2][j - 2] + 1) }
        }
    }
    return d[a.count][b.count]
}

/// "`a`, `b` or `c`" for messages.
func listing(_ words: [String], conjunction: String = "or") -> String {
    let quoted = words.map { "`\($0)`" }
    guard quoted.count > 1 else { return quoted.first ?? "" }
    return quoted.dropLast().joined(separator: ", ") + " \(conjunction) " + quoted.last!
}
