// sd_notify without libsystemd: state messages (READY=1, STATUS=…, WATCHDOG=1, …) sent as one datagram each to
// the unix socket systemd names in $NOTIFY_SOCKET. Outside systemd (variable unset) every call is a no-op.
import Foundation
import Glibc
import Synchronization

/// Tells systemd about the service's state, as `Type=notify` units expect.
///
/// The socket address comes from `NOTIFY_SOCKET`: a filesystem path, or `@name` for the abstract namespace.
/// Send failures are not thrown (a service must not stop because its supervisor went away) but counted in
/// ``failures``, with the last reason in ``lastError``.
public struct SystemdNotifier: Sendable {
    /// The socket from `NOTIFY_SOCKET`, or nil when the variable is unset, empty or unusable.
    let address: String?
    /// Why the address is unusable, if it is (too long for `sockaddr_un`, not a path).
    let addressProblem: String?
    private let watchdogUsec: UInt64?
    private let counters = Counters()

    /// Mutable counters shared by copies of the notifier (a struct holding a reference keeps it `Sendable`).
    private final class Counters: Sendable {
        let state = Mutex<(sent: Int, failures: Int, lastError: String?)>((0, 0, nil))
    }

    /// Reads `NOTIFY_SOCKET`, `WATCHDOG_USEC` and `WATCHDOG_PID` from `environment` (the process environment
    /// unless a test injects one).
    public init(environment: [String: String] = ProcessInfo.processInfo.environment) {
        let socket = environment["NOTIFY_SOCKET"] ?? ""
        var problem: String?
        if socket.isEmpty {
            address = nil
        } else if !socket.hasPrefix("/") && !socket.hasPrefix("@") {
            // systemd itself only hands out absolute paths or abstract names (vsock is not supported here).
            address = nil
            problem = "NOTIFY_SOCKET=\(socket) is neither an absolute path nor an @abstract name"
        } else if socket.utf8.count >= MemoryLayout.size(ofValue: sockaddr_un().sun_path) {
            address = nil
            problem = "NOTIFY_SOCKET=\(socket) is longer than a unix socket address can be"
        } else {
            address = socket
        }
        addressProblem = problem

        // The watchdog applies to this process only: WATCHDOG_PID, when set, names the process it is meant for.
        if let usec = environment["WATCHDOG_USEC"].flatMap({ UInt64($0) }), usec > 0,
            environment["WATCHDOG_PID"].map({ Int32($0) == getpid() }) ?? true
        {
            watchdogUsec = usec
        } else {
            watchdogUsec = nil
        }
        if let problem { counters.state.withLock { $0.lastError = problem } }
    }

    /// Whether messages go anywhere (`NOTIFY_SOCKET` is set to a usable address).
    public var isEnabled: Bool { address != nil }

    /// The watchdog timeout in seconds from `WATCHDOG_USEC`, or nil when the unit has no watchdog (or it is meant
    /// for another process). Send ``watchdog()`` at about half this interval.
    public var watchdogInterval: Double? { watchdogUsec.map { Double($0) / 1_000_000 } }

    /// How often to send `WATCHDOG=1`: half of ``watchdogInterval`` (systemd's advice), nil without a watchdog.
    public var watchdogPingInterval: Double? { watchdogInterval.map { $0 / 2 } }

    /// Messages delivered so far (by this notifier and its copies).
    public var sent: Int { counters.state.withLock { $0.sent } }
    /// Messages that could not be delivered (socket missing, nobody listening, buffer full, bad address).
    public var failures: Int { counters.state.withLock { $0.failures } }
    /// Why the last failure happened, with the address and errno text.
    public var lastError: String? { counters.state.withLock { $0.lastError } }

    /// Sends `message` as one datagram: newline-separated `KEY=value` assignments such as `READY=1`,
    /// `STATUS=…`, `WATCHDOG=1`, `STOPPING=1`, `RELOADING=1`, `MONOTONIC_USEC=…`. A no-op when not enabled.
    public func notify(_ message: String) {
        guard let address else {
            if addressProblem != nil { counters.state.withLock { $0.failures += 1 } }
            return
        }
        if let problem = Self.send(message, to: address) {
            counters.state.withLock {
                $0.failures += 1
                $0.lastError = problem
            }
        } else {
            counters.state.withLock { $0.sent += 1 }
        }
    }

    /// `READY=1`, with a `STATUS=` line when `status` is given: start-up is complete.
    public func ready(status: String? = nil) {
        notify(status.map { "READY=1\nSTATUS=\(Self.oneLine($0))" } ?? "READY=1")
    }

    /// `STATUS=…`: a one-line summary that `systemctl status` shows. Line breaks are replaced by spaces.
    public func status(_ text: String) {
        notify("STATUS=\(Self.oneLine(text))")
    }

    /// `WATCHDOG=1`: the service is alive. Send at half of ``watchdogInterval``.
    public func watchdog() {
        notify("WATCHDOG=1")
    }

    /// `STOPPING=1`: shutdown has begun (drain, flush, exit).
    public func stopping() {
        notify("STOPPING=1")
    }

    /// `RELOADING=1` plus `MONOTONIC_USEC=` (CLOCK_MONOTONIC now, which systemd ≥ 253 requires with
    /// `Type=notify-reload` and older versions ignore). Send ``ready(status:)`` when the reload is done.
    public func reloading() {
        notify("RELOADING=1\nMONOTONIC_USEC=\(Self.monotonicMicroseconds())")
    }

    /// CLOCK_MONOTONIC in microseconds, the clock systemd uses for `MONOTONIC_USEC=`.
    static func monotonicMicroseconds() -> UInt64 {
        var now = timespec()
        clock_gettime(CLOCK_MONOTONIC, &now)
        return UInt64(now.tv_sec) * 1_000_000 + UInt64(now.tv_nsec) / 1_000
    }

    private static func oneLine(_ text: String) -> String {
        text.replacingOccurrences(of: "\r", with: " ").replacingOccurrences(of: "\n", with: " ")
    }

    /// One datagram on a fresh socket (as libsystemd does): nothing to keep open, nothing to reconnect after
    /// systemd re-executes. Returns a reason on failure.
    private static func send(_ message: String, to address: String) -> String? {
        let fd = socket(AF_UNIX, Int32(SOCK_DGRAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0)
        guard fd >= 0 else { return "socket(AF_UNIX, SOCK_DGRAM) for \(address): \(String(cString: strerror(errno)))" }
        defer { close(fd) }

        var addr = sockaddr_un()
        addr.sun_family = sa_family_t(AF_UNIX)
        var pathBytes = Array(address.utf8)
        if pathBytes.first == UInt8(ascii: "@") { pathBytes[0] = 0 }  // abstract namespace: leading NUL
        withUnsafeMutableBytes(of: &addr.sun_path) { raw in
            raw.copyBytes(from: pathBytes)
        }
        // Abstract names are exact-length (no terminating NUL); paths may include it, systemd accepts both.
        let length = socklen_t(MemoryLayout<sockaddr_un>.offset(of: \.sun_path)! + pathBytes.count)
        let payload = Array(message.utf8)
        var result: Int
        repeat {
            result = withUnsafePointer(to: &addr) { pointer in
                pointer.withMemoryRebound(to: sockaddr.self, capacity: 1) { sa in
                    payload.withUnsafeBytes { sendto(fd, $0.baseAddress, $0.count, Int32(MSG_NOSIGNAL), sa, length) }
                }
            }
        } while result < 0 && errno == EINTR
        if result < 0 { return "sendto \(address): \(String(cString: strerror(errno)))" }
        if result != payload.count { return "sendto \(address): short datagram (\(result) of \(payload.count) bytes)" }
        return nil
    }
}
