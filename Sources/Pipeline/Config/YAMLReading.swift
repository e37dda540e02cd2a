// Typed reading of Yams node trees with positions: every read either yields a value or records a diagnostic
// that says where, what was expected and what was found. Unknown keys are reported with a did-you-mean.
import Foundation
import Yams

/// One YAML file being read: its displayed path, its diagnostics sink, and position helpers.
final class YAMLFile {
    let path: String
    let log: DiagnosticLog

    init(path: String, log: DiagnosticLog) {
        self.path = path
        self.log = log
        log.register(file: path)
    }

    func error(_ message: String, at node: Node?) {
        let mark = node?.mark
        log.error(message, file: path, line: mark?.line ?? 1, column: mark?.column ?? 1)
    }

    func error(_ message: String, line: Int, column: Int) {
        log.error(message, file: path, line: line, column: column)
    }

    func warning(_ message: String, at node: Node?) {
        let mark = node?.mark
        log.warning(message, file: path, line: mark?.line ?? 1, column: mark?.column ?? 1)
    }

    /// Parses `text` into one document. Syntax errors become a diagnostic (one: libyaml stops at the first).
    func parse(_ text: String) -> Node? {
        do {
            guard let root = try Yams.compose(yaml: text) else {
                error("the file is empty; expected a YAML mapping", line: 1, column: 1)
                return nil
            }
            return root
        } catch let yamlError as YamlError {
            switch yamlError {
            case let .scanner(context, problem, mark, _), let .parser(context, problem, mark, _),
                let .composer(context, problem, mark, _):
                var message = "invalid YAML: \(problem)"
                if let context { message += " (\(context.text) at line \(context.mark.line))" }
                error(message + "; check indentation, quotes and `:` after keys", line: mark.line, column: mark.column)
            case let .duplicatedKeysInMapping(duplicates, context):
                error("key \(listing(duplicates, conjunction: "and")) appears more than once in one mapping; "
                      + "keep one of each", line: context.mark.line, column: context.mark.column)
            case let .reader(problem, _, _, _):
                error("cannot read the file as UTF-8 text: \(problem)", line: 1, column: 1)
            default:
                error("invalid YAML: \(yamlError)", line: 1, column: 1)
            }
            return nil
        } catch {
            self.error("invalid YAML: \(error)", line: 1, column: 1)
            return nil
        }
    }
}

/// What a node is, in words for messages: "a string (\"abc\")", "a list", "a number (3)".
func describe(_ node: Node) -> String {
    switch node {
    case .mapping: return "a mapping"
    case .sequence: return "a list"
    case .alias: return "an alias"
    case let .scalar(scalar):
        let text = scalar.string.count > 40 ? String(scalar.string.prefix(40)) + "…" : scalar.string
        switch node.tagName {
        case .null: return "nothing (null)"
        case .bool: return "a boolean (\(text))"
        case .int, .float: return "a number (\(text))"
        default: return "a string (\"\(text)\")"
        }
    }
}

/// Whether a node is YAML null (`~`, `null` or an empty value).
func isNull(_ node: Node) -> Bool {
    if case .scalar = node, node.tagName == .null { return true }
    return false
}

/// Numbers in messages: `0.5`, `3` (not `3.0`).
func formatNumber(_ value: Double) -> String {
    if value == value.rounded(), abs(value) < 1e15 { return String(Int(value)) }
    return String(value)
}

/// Allowed range of a number, with its own wording for messages.
struct NumberRange {
    var min: Double?
    var minInclusive = true
    var max: Double?
    var maxInclusive = true

    static func atLeast(_ value: Double) -> NumberRange { NumberRange(min: value) }
    static func above(_ value: Double) -> NumberRange { NumberRange(min: value, minInclusive: false) }
    static func between(_ low: Double, _ high: Double) -> NumberRange { NumberRange(min: low, max: high) }
    static let unit = between(0, 1)
    static let positive = above(0)

    func contains(_ value: Double) -> Bool {
        if let min, minInclusive ? value < min : value <= min { return false }
        if let max, maxInclusive ? value > max : value >= max { return false }
        return true
    }

    var wording: String {
        switch (min, max) {
        case let (low?, high?) where minInclusive && maxInclusive:
            return "between \(formatNumber(low)) and \(formatNumber(high))"
        case let (low?, high?):
            return "greater than \(minInclusive ? "or equal to " : "")\(formatNumber(low)) and less than "
                + "\(maxInclusive ? "or equal to " : "")\(formatNumber(high))"
        case let (low?, nil):
            return minInclusive ? "at least \(formatNumber(low))" : "greater than \(formatNumber(low))"
        case let (nil, high?): return maxInclusive ? "at most \(formatNumber(high))" : "less than \(formatNumber(high))"
        case (nil, nil): return "a number"
        }
    }
}

/// Reads the keys of one YAML mapping. Every key the code asks about counts as known; `finish()` reports the
/// rest as unknown, with the closest known key as a suggestion.
final class MappingReader {
    let file: YAMLFile
    let node: Node
    /// How the mapping is named in messages, e.g. "`detect` options", "source `inbox`".
    let what: String
    let entries: [(key: String, keyNode: Node, value: Node)]
    private(set) var known: [String] = []

    /// A reader for `node`, or nil (with a diagnostic) if it is not a mapping. `nullIsEmpty` accepts `key:` with
    /// nothing after it as an empty mapping (e.g. `- decode:` means decode with its defaults).
    init?(file: YAMLFile, node: Node, what: String, nullIsEmpty: Bool = false) {
        self.file = file
        self.node = node
        self.what = what
        if nullIsEmpty, isNull(node) {
            entries = []
            return
        }
        guard let mapping = node.mapping else {
            file.error("\(what) must be a mapping of `key: value` lines, got \(describe(node))", at: node)
            return nil
        }
        var entries: [(String, Node, Node)] = []
        for (key, value) in mapping {
            guard case .scalar = key, let name = key.string else {
                file.error("keys of \(what) must be plain words, got \(describe(key))", at: key)
                continue
            }
            entries.append((name, key, value))
        }
        self.entries = entries
    }

    /// The value node of `key`, marking the key as known. Nil if absent.
    func value(_ key: String) -> Node? {
        if !known.contains(key) { known.append(key) }
        return entries.first { $0.key == key }?.value
    }

    func has(_ key: String) -> Bool { entries.contains { $0.key == key } }

    /// Records `key` as allowed without reading it (read elsewhere, or rejected with a better message).
    func allow(_ keys: String...) {
        for key in keys where !known.contains(key) { known.append(key) }
    }

    func missing(_ key: String, _ explanation: String) {
        let owner = what.hasSuffix(" options") ? String(what.dropLast(" options".count)) : what
        file.error("\(owner) needs `\(key)`: \(explanation)", at: node)
    }

    /// Reports keys that nothing asked about.
    func finish() {
        for entry in entries where !known.contains(entry.key) {
            var message = "unknown key `\(entry.key)` in \(what)"
            if let guess = suggestion(for: entry.key, among: known) { message += "; did you mean `\(guess)`?" }
            message += " (known keys: \(known.joined(separator: ", ")))"
            file.error(message, at: entry.keyNode)
        }
    }

    // MARK: Typed values. Each returns nil after recording a diagnostic when the value is present but wrong.

    func string(_ key: String, required explanation: String? = nil) -> String? {
        guard let node = value(key) else {
            if let explanation { missing(key, explanation) }
            return nil
        }
        return file.string(node, named: key)
    }

    func int(_ key: String, in range: NumberRange, required explanation: String? = nil) -> Int? {
        guard let node = value(key) else {
            if let explanation { missing(key, explanation) }
            return nil
        }
        return file.int(node, named: key, in: range)
    }

    func number(_ key: String, in range: NumberRange, required explanation: String? = nil) -> Double? {
        guard let node = value(key) else {
            if let explanation { missing(key, explanation) }
            return nil
        }
        return file.number(node, named: key, in: range)
    }

    func bool(_ key: String) -> Bool? {
        guard let node = value(key) else { return nil }
        guard case .scalar = node, node.tagName == .bool, let value = node.bool else {
            file.error("`\(key)` must be true or false, got \(describe(node))", at: node)
            return nil
        }
        return value
    }

    func choice(_ key: String, of choices: [String], required explanation: String? = nil) -> String? {
        guard let node = value(key) else {
            if let explanation { missing(key, explanation) }
            return nil
        }
        return file.choice(node, named: key, of: choices)
    }

    func size(_ key: String) -> PixelSize? {
        guard let node = value(key) else { return nil }
        return file.size(node, named: key)
    }

    /// A string or a list of strings (`match: "*.mp4"` or `match: ["*.mp4", "*.mkv"]`).
    func strings(_ key: String) -> [String]? {
        guard let node = value(key) else { return nil }
        if case .scalar = node, !isNull(node) { return file.string(node, named: key).map { [$0] } }
        guard let items = node.sequence else {
            file.error("`\(key)` must be a string or a list of strings, got \(describe(node))", at: node)
            return nil
        }
        var result: [String] = []
        for item in items {
            guard let text = file.string(item, named: "each item of `\(key)`") else { return nil }
            result.append(text)
        }
        if result.isEmpty {
            file.error("`\(key)` must not be empty", at: node)
            return nil
        }
        return result
    }

    /// A list of exactly `count` numbers (e.g. per-channel `mean`).
    func numbers(_ key: String, count: Int, in range: NumberRange) -> [Double]? {
        guard let node = value(key) else { return nil }
        guard let items = node.sequence else {
            file.error("`\(key)` must be a list of \(count) numbers such as [0.45, 0.45, 0.45], got \(describe(node))",
                       at: node)
            return nil
        }
        guard items.count == count else {
            file.error("`\(key)` must have \(count) numbers (one per colour channel), got \(items.count)", at: node)
            return nil
        }
        var result: [Double] = []
        for item in items {
            guard let value = file.number(item, named: "each number of `\(key)`", in: range) else { return nil }
            result.append(value)
        }
        return result
    }
}

extension YAMLFile {
    /// Any non-null scalar reads as a string (`id: 7` is the id "7"); lists, mappings and null do not.
    func string(_ node: Node, named key: String) -> String? {
        guard case .scalar = node, !isNull(node), let text = node.string else {
            error("`\(key)` must be a string, got \(describe(node))", at: node)
            return nil
        }
        if text.trimmingCharacters(in: .whitespaces).isEmpty {
            error("`\(key)` must not be empty", at: node)
            return nil
        }
        return text
    }

    func int(_ node: Node, named key: String, in range: NumberRange) -> Int? {
        guard case .scalar = node, node.tagName == .int, let value = node.int else {
            var message = "`\(key)` must be a whole number"
            if range.min != nil || range.max != nil { message += " \(range.wording)" }
            message += ", got \(describe(node))"
            if node.tagName == .str, let text = node.string, Int(text) != nil {
                message += "; write it without quotes"
            }
            error(message, at: node)
            return nil
        }
        guard range.contains(Double(value)) else {
            error("`\(key)` must be \(range.wording), got \(value)", at: node)
            return nil
        }
        return value
    }

    func number(_ node: Node, named key: String, in range: NumberRange) -> Double? {
        guard case .scalar = node, node.tagName == .int || node.tagName == .float, let value = node.float,
              value.isFinite else {
            var message = "`\(key)` must be a number"
            if range.min != nil || range.max != nil { message += " \(range.wording)" }
            message += ", got \(describe(node))"
            if node.tagName == .str, let text = node.string, Double(text) != nil {
                message += "; write it without quotes"
            }
            error(message, at: node)
            return nil
        }
        guard range.contains(value) else {
            error("`\(key)` must be \(range.wording), got \(formatNumber(value))", at: node)
            return nil
        }
        return value
    }

    func choice(_ node: Node, named key: String, of choices: [String]) -> String? {
        guard let text = string(node, named: key) else { return nil }
        guard choices.contains(text) else {
            var message = "`\(key)` must be \(listing(choices)), got `\(text)`"
            if let guess = suggestion(for: text, among: choices) { message += "; did you mean `\(guess)`?" }
            error(message, at: node)
            return nil
        }
        return text
    }

    func size(_ node: Node, named key: String) -> PixelSize? {
        guard case .scalar = node, let text = node.string, let size = PixelSize(parsing: text) else {
            error("`\(key)` must be a size written WIDTHxHEIGHT such as 320x240, got \(describe(node))", at: node)
            return nil
        }
        return size
    }
}

extension Node {
    /// The resolved YAML tag (`!!int`, `!!str`, ...): plain `15` is an int, quoted `"15"` a string.
    var tagName: Tag.Name { Tag.Name(rawValue: tag.description) }
}
