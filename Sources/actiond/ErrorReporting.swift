// Maps errors to stderr text and exit codes: 0 ok, 1 runtime failure, 2 usage or configuration error.
import ArgumentParser
import Daemon
import Foundation
import Inference
import Media
import Tensor
import Pipeline

/// An error in what the user asked for (arguments, config): exits with status 2.
struct UsageError: Error, CustomStringConvertible {
    var description: String
    init(_ message: String) { description = message }
}

func writeStderr(_ text: String) {
    FileHandle.standardError.write(Data((text.hasSuffix("\n") ? text : text + "\n").utf8))
}

/// Prints `error` and returns the process exit status.
func report(_ error: Error) -> Int32 {
    switch error {
    case let error as MediaError:
        writeStderr("error: \(error.summary)")
        for line in error.details { writeStderr("  \(line)") }
        return 1
    case let error as ModelError:
        // A model that cannot be loaded or run is a runtime failure; wrong inputs given by the user are usage.
        writeStderr("error: \(error.summary)")
        for line in error.details { writeStderr("  \(line)") }
        return error.kind == .badInput ? 2 : 1
    case let error as NPYError:
        writeStderr("error: \(error.description)")
        return 2
    case let error as FlowCommandError:
        writeStderr("error: \(error.description)")
        return 1
    case let error as ConfigError:  // config and model-card problems: one `file:line:col: error:` line each
        for diagnostic in error.diagnostics { writeStderr(diagnostic.description) }
        return 2
    case let error as StageError:
        writeStderr("error: \(error.description)")
        return 1
    case let error as DaemonError:  // `actiond run`: a config problem is a usage error, the rest runtime failures
        writeStderr("error: \(error.description)")
        if case .config = error { return 2 }
        return 1
    case let error as UsageError:
        writeStderr("error: \(error.description)")
        return 2
    case let error as ExitCode:
        return error.rawValue
    default:
        let code = Actiond.exitCode(for: error)
        let message = Actiond.fullMessage(for: error)
        if code == .success {
            if !message.isEmpty { print(message) }
            return 0
        }
        if code == .validationFailure {  // ArgumentParser's usage errors (EX_USAGE = 64): ours is 2
            writeStderr(message)
            return 2
        }
        writeStderr("error: \(message.isEmpty ? String(describing: error) : message)")
        return 1
    }
}
