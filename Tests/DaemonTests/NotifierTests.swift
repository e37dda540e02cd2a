// sd_notify without libsystemd: messages sent to real SOCK_DGRAM unix sockets (a path in a temp dir and an abstract
// name) are read back byte for byte; watchdog settings are parsed from the injected environment.
import Foundation
import Glibc
import TestSupport
import XCTest

@testable import Daemon

final class NotifierTests: XCTestCase {
    /// A bound datagram socket standing in for systemd's notification socket.
    private final class NotifySocket {
        let fd: Int32
        /// The NOTIFY_SOCKET value that reaches it.
        let address: String

        convenience init(path: String) throws {
            try self.init(address: path, bytes: Array(path.utf8))
        }

        convenience init(abstract name: String) throws {
            try self.init(address: "@" + name, bytes: [0] + Array(name.utf8))
        }

        private init(address: String, bytes: [UInt8]) throws {
            fd = socket(AF_UNIX, Int32(SOCK_DGRAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0)
            self.address = address
            var addr = sockaddr_un()
            addr.sun_family = sa_family_t(AF_UNIX)
            withUnsafeMutableBytes(of: &addr.sun_path) { $0.copyBytes(from: bytes) }
            let length = socklen_t(MemoryLayout<sockaddr_un>.offset(of: \.sun_path)! + bytes.count)
            let rc = withUnsafePointer(to: &addr) {
                $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, length) }
            }
            guard fd >= 0, rc == 0 else {
                throw NSError(domain: "bind \(address)", code: Int(errno))
            }
            // Reads fail after 5 s instead of hanging a test whose message never came.
            var timeout = timeval(tv_sec: 5, tv_usec: 0)
            setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &timeout, socklen_t(MemoryLayout<timeval>.size))
        }

        deinit { close(fd) }

        /// The next datagram, or nil if none arrives in time.
        func receive() -> String? {
            var buffer = [UInt8](repeating: 0, count: 4096)
            let count = buffer.withUnsafeMutableBytes { recv(fd, $0.baseAddress, $0.count, 0) }
            return count < 0 ? nil : String(decoding: buffer[0..<count], as: UTF8.self)
        }

        /// Whether a datagram is waiting (without blocking).
        var hasPending: Bool {
            var byte: UInt8 = 0
            return recv(fd, &byte, 1, Int32(MSG_PEEK) | Int32(MSG_DONTWAIT)) >= 0
        }
    }

    private func temporaryDirectory() throws -> URL {
        let dir = try TemporaryDirectory("actiond-notify")
        addTeardownBlock { dir.remove() }
        return dir.url
    }

    private func exchange(with listener: NotifySocket) {
        let notifier = SystemdNotifier(environment: ["NOTIFY_SOCKET": listener.address])
        XCTAssertTrue(notifier.isEnabled)
        notifier.ready(status: "watching 2 sources")
        XCTAssertEqual(listener.receive(), "READY=1\nSTATUS=watching 2 sources")
        notifier.status("3 files\nprocessed")  // a status is one line
        XCTAssertEqual(listener.receive(), "STATUS=3 files processed")
        notifier.watchdog()
        XCTAssertEqual(listener.receive(), "WATCHDOG=1")
        notifier.stopping()
        XCTAssertEqual(listener.receive(), "STOPPING=1")
        notifier.ready()
        XCTAssertEqual(listener.receive(), "READY=1")
        notifier.notify("EXTEND_TIMEOUT_USEC=5000000")
        XCTAssertEqual(listener.receive(), "EXTEND_TIMEOUT_USEC=5000000")

        let before = SystemdNotifier.monotonicMicroseconds()
        notifier.reloading()
        let reload = listener.receive() ?? ""
        let lines = reload.split(separator: "\n")
        XCTAssertEqual(lines.first, "RELOADING=1", reload)
        let stamp = lines.count == 2 && lines[1].hasPrefix("MONOTONIC_USEC=") ? UInt64(lines[1].dropFirst(15)) : nil
        XCTAssertNotNil(stamp, reload)
        XCTAssertGreaterThanOrEqual(stamp ?? 0, before)
        XCTAssertLessThanOrEqual(stamp ?? .max, SystemdNotifier.monotonicMicroseconds())

        XCTAssertEqual(notifier.sent, 7)
        XCTAssertEqual(notifier.failures, 0)
        XCTAssertFalse(listener.hasPending)
    }

    func testMessagesReachASocketAtAPath() throws {
        let listener = try NotifySocket(path: try temporaryDirectory().appendingPathComponent("notify").path)
        exchange(with: listener)
    }

    func testMessagesReachAnAbstractSocket() throws {
        let listener = try NotifySocket(abstract: "actiond-test-\(getpid())-\(UUID().uuidString.prefix(8))")
        exchange(with: listener)
    }

    func testUnsetSocketIsANoOp() {
        for environment in [[:], ["NOTIFY_SOCKET": ""]] {
            let notifier = SystemdNotifier(environment: environment)
            XCTAssertFalse(notifier.isEnabled)
            notifier.ready(status: "x")
            notifier.watchdog()
            XCTAssertEqual(notifier.sent, 0)
            XCTAssertEqual(notifier.failures, 0)
            XCTAssertNil(notifier.lastError)
        }
    }

    func testFailuresAreCountedNotThrown() throws {
        let missing = try temporaryDirectory().appendingPathComponent("nobody-listens").path
        let notifier = SystemdNotifier(environment: ["NOTIFY_SOCKET": missing])
        XCTAssertTrue(notifier.isEnabled)
        notifier.ready()
        notifier.watchdog()
        XCTAssertEqual(notifier.sent, 0)
        XCTAssertEqual(notifier.failures, 2)
        XCTAssertTrue(notifier.lastError?.contains(missing) == true, notifier.lastError ?? "nil")
        let copy = notifier  // copies share the counters
        copy.status("x")
        XCTAssertEqual(notifier.failures, 3)

        let relative = SystemdNotifier(environment: ["NOTIFY_SOCKET": "run/notify"])
        XCTAssertFalse(relative.isEnabled)
        relative.ready()
        XCTAssertEqual(relative.failures, 1)
        XCTAssertTrue(relative.lastError?.contains("run/notify") == true)

        let tooLong = SystemdNotifier(environment: ["NOTIFY_SOCKET": "/" + String(repeating: "x", count: 200)])
        XCTAssertFalse(tooLong.isEnabled)
        XCTAssertTrue(tooLong.lastError?.contains("longer") == true)
    }

    func testWatchdogIntervalFromTheEnvironment() {
        XCTAssertNil(SystemdNotifier(environment: [:]).watchdogInterval)
        XCTAssertEqual(SystemdNotifier(environment: ["WATCHDOG_USEC": "30000000"]).watchdogInterval, 30)
        XCTAssertEqual(SystemdNotifier(environment: ["WATCHDOG_USEC": "30000000"]).watchdogPingInterval, 15)
        XCTAssertNil(SystemdNotifier(environment: [:]).watchdogPingInterval)
        XCTAssertEqual(SystemdNotifier(environment: ["WATCHDOG_USEC": "1500"]).watchdogInterval, 0.0015)
        XCTAssertEqual(
            SystemdNotifier(environment: ["WATCHDOG_USEC": "2000000", "WATCHDOG_PID": "\(getpid())"]).watchdogInterval,
            2)
        // Meant for another process (e.g. a parent that forked us): not ours to ping.
        XCTAssertNil(
            SystemdNotifier(environment: ["WATCHDOG_USEC": "2000000", "WATCHDOG_PID": "\(getpid() + 1)"])
                .watchdogInterval)
        XCTAssertNil(SystemdNotifier(environment: ["WATCHDOG_USEC": "0"]).watchdogInterval)
        XCTAssertNil(SystemdNotifier(environment: ["WATCHDOG_USEC": "-5"]).watchdogInterval)
        XCTAssertNil(SystemdNotifier(environment: ["WATCHDOG_USEC": "soon"]).watchdogInterval)
        XCTAssertNil(SystemdNotifier(environment: ["WATCHDOG_USEC": "1000", "WATCHDOG_PID": "x"]).watchdogInterval)
    }

    func testTheProcessEnvironmentIsTheDefault() throws {
        let listener = try NotifySocket(path: try temporaryDirectory().appendingPathComponent("notify").path)
        let previous = getenv("NOTIFY_SOCKET").map { String(cString: $0) }
        setenv("NOTIFY_SOCKET", listener.address, 1)
        defer {
            if let previous { setenv("NOTIFY_SOCKET", previous, 1) } else { unsetenv("NOTIFY_SOCKET") }
        }
        let notifier = SystemdNotifier()
        XCTAssertTrue(notifier.isEnabled)
        notifier.watchdog()
        XCTAssertEqual(listener.receive(), "WATCHDOG=1")
    }
}
