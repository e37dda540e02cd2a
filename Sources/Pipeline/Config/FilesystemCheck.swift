// What `actiond run` will need of the filesystem, checked where the config is loaded for a run (and by
// `actiond check`): the folders it watches and moves files into, the event logs and the journal it writes.
// Each problem names the config line that asked for the path. Kept apart from `ConfigLoader.load`, which
// validates a config on any machine; this pass is about the machine the config is checked on.
import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// A path the service reads or writes, and the config entry that names it.
public struct ConfigPath: Sendable, Equatable {
    public enum Role: String, Sendable, Equatable {
        case watchFolder = "watched folder"
        case doneFolder = "`done: move:` folder"
        case quarantineFolder = "quarantine folder"
        case sinkFile = "event log"
        case journalFile = "journal"

        var isFolder: Bool { self == .watchFolder || self == .doneFolder || self == .quarantineFolder }
    }

    public var path: String
    public var role: Role
    public var location: ConfigLocation

    public init(path: String, role: Role, location: ConfigLocation) {
        self.path = path
        self.role = role
        self.location = location
    }
}

extension PipelineConfig {
    /// Problems `run` would hit with the paths this config names: errors (a folder that is a file, a log that
    /// is a folder, a parent that cannot be created or written) and warnings (a watched folder that does not
    /// exist yet: the service waits for it).
    public func filesystemDiagnostics() -> [ConfigDiagnostic] {
        paths.sorted { ($0.location.line, $0.location.column) < ($1.location.line, $1.location.column) }
            .compactMap { entry in
            FilesystemProbe.problem(entry).map { message, severity in
                ConfigDiagnostic(at: entry.location, message, severity: severity)
            }
        }
    }
}

enum FilesystemProbe {
    enum Kind { case missing, folder, file, other }

    static func kind(_ path: String) -> Kind {
        var status = stat()
        guard stat(path, &status) == 0 else { return .missing }
        switch status.st_mode & S_IFMT {
        case S_IFDIR: return .folder
        case S_IFREG: return .file
        default: return .other
        }
    }

    static func writable(_ path: String) -> Bool { access(path, W_OK | X_OK) == 0 || access(path, W_OK) == 0 }

    static func problem(_ entry: ConfigPath) -> (String, ConfigDiagnostic.Severity)? {
        let path = entry.path
        let role = entry.role.rawValue
        switch kind(path) {
        case .folder where entry.role.isFolder:
            if entry.role != .watchFolder, !writable(path) {
                return ("the \(role) `\(path)` is not writable by this user", .error)
            }
            return nil
        case .folder:
            return ("the \(role) `\(path)` is a folder; name a file inside it, e.g. `\(path)/"
                    + (entry.role == .journalFile ? "journal.sqlite" : "actions.jsonl") + "`", .error)
        case .file where !entry.role.isFolder:
            return writable(path) ? nil : ("the \(role) `\(path)` exists but is not writable by this user", .error)
        case .file, .other:
            return ("the \(role) `\(path)` is not a folder", .error)
        case .missing:
            break
        }
        // Missing: the service creates it (a watched folder it waits for). The nearest existing ancestor must
        // be a folder this user can create entries in.
        var ancestor = (path as NSString).deletingLastPathComponent
        if ancestor.isEmpty { ancestor = "." }
        while kind(ancestor) == .missing, ancestor != "/", ancestor != "." {
            let parent = (ancestor as NSString).deletingLastPathComponent
            ancestor = parent.isEmpty ? "." : parent
        }
        switch kind(ancestor) {
        case .folder:
            if entry.role == .watchFolder {
                return ("the \(role) `\(path)` does not exist yet; the service waits for it and checks again "
                        + "every 5 s", .warning)
            }
            guard writable(ancestor) else {
                return ("cannot create the \(role) `\(path)`: `\(ancestor)` is not writable by this user", .error)
            }
            return nil
        case .missing:
            return ("cannot create the \(role) `\(path)`: no part of the path exists", .error)
        case .file, .other:
            return ("cannot create the \(role) `\(path)`: `\(ancestor)` is a file, not a folder", .error)
        }
    }
}
