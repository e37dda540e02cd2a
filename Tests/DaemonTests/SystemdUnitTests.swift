// The shipped systemd units pass `systemd-analyze verify` without a warning, carry the settings the service relies
// on, and `make install`/`make uninstall` with DESTDIR put and remove exactly the documented files.
import Foundation
import TestSupport
import XCTest

final class SystemdUnitTests: XCTestCase {
    /// The repository root, found from this file (symlinks resolved, so a scratch package that links the tests in
    /// still finds the real tree).
    private static let repository = URL(fileURLWithPath: #filePath).resolvingSymlinksInPath()
        .deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()

    private static let analyze = ["/usr/bin/systemd-analyze", "/bin/systemd-analyze"].first {
        FileManager.default.isExecutableFile(atPath: $0)
    }


    /// Runs `executable` with `arguments` in `directory`, collecting both outputs.
    private func run(_ executable: String, _ arguments: [String], in directory: URL? = nil) throws -> ProcessResult {
        // No systemd is running in a build container; verify must not try to talk to one.
        var environment = ProcessInfo.processInfo.environment
        environment["SYSTEMD_LOG_COLOR"] = "0"
        return try runProcess(executable, arguments, in: directory, environment: environment)
    }

    private func temporaryDirectory() throws -> URL {
        let dir = try TemporaryDirectory("actiond-units")
        addTeardownBlock { dir.remove() }
        return dir.url
    }

    private func unitText(_ name: String) throws -> String {
        try String(contentsOf: Self.repository.appendingPathComponent("systemd/\(name)"), encoding: .utf8)
    }

    /// Copies `text` into `directory` as `name` with ExecStart pointing at /bin/true: verify insists that the
    /// executable exists, and the real binary is not installed on a build machine.
    private func verify(_ text: String, as name: String, in directory: URL) throws {
        guard let analyze = Self.analyze else {
            throw XCTSkip("systemd-analyze is not installed (apt-get install systemd); unit files not verified")
        }
        let binary = text.components(separatedBy: "\n").first { $0.hasPrefix("ExecStart=") }
            .flatMap { $0.dropFirst("ExecStart=".count).split(separator: " ").first }.map(String.init)
        let executable = try XCTUnwrap(binary, "no ExecStart= in \(name)")
        let copy = text.replacingOccurrences(of: executable + " ", with: "/bin/true ")
        XCTAssertTrue(copy.contains("ExecStart=/bin/true run --config "), name)
        try copy.write(to: directory.appendingPathComponent(name), atomically: true, encoding: .utf8)
        let result = try run(analyze, ["verify", "./\(name)"], in: directory)
        XCTAssertEqual(result.status, 0, "systemd-analyze verify \(name): \(result.stderr)")
        // verify exits 0 for unknown keys and unparsable values: it only warns. Any warning about our unit fails.
        let stem = name.split(separator: "@").first.map(String.init) ?? name
        let warnings = result.stderr.split(separator: "\n").filter { $0.contains(stem) || $0.contains(name) }
        XCTAssertEqual(warnings, [], "systemd-analyze verify \(name) warned:\n\(result.stderr)")
    }

    func testActiondServiceVerifiesCleanly() throws {
        try verify(try unitText("actiond.service"), as: "actiond.service", in: try temporaryDirectory())
    }

    func testTemplateVerifiesCleanlyAsAnInstance() throws {
        // A template cannot be verified by itself: verify an instance name, as systemd would load it.
        try verify(try unitText("actiond@.service"), as: "actiond@demo.service", in: try temporaryDirectory())
    }

    func testVerifyCatchesAMistake() throws {
        // The check above is only worth something if verify reports a broken line through this same path.
        guard let analyze = Self.analyze else { throw XCTSkip("systemd-analyze is not installed") }
        let directory = try temporaryDirectory()
        let broken = try unitText("actiond.service").replacingOccurrences(of: "Type=notify\n", with: "Type=notfy\n")
            .replacingOccurrences(of: "/usr/local/bin/actiond ", with: "/bin/true ")
        try broken.write(to: directory.appendingPathComponent("actiond.service"), atomically: true, encoding: .utf8)
        let result = try run(analyze, ["verify", "./actiond.service"], in: directory)
        XCTAssertTrue(result.stderr.contains("actiond.service"), result.stderr)
        XCTAssertTrue(result.stderr.contains("notfy"), result.stderr)
    }

    /// `Key=value` settings of a unit, in order (comments and sections dropped).
    private func settings(_ text: String) -> [(key: String, value: String)] {
        text.split(separator: "\n").compactMap { line in
            guard !line.hasPrefix("#"), !line.hasPrefix("["), let equals = line.firstIndex(of: "=") else { return nil }
            return (String(line[..<equals]), String(line[line.index(after: equals)...]))
        }
    }

    func testUnitsCarryWhatTheDaemonReliesOn() throws {
        for (name, config, state, logs) in [
            ("actiond.service", "/etc/actiond/pipeline.yaml", "actiond", "actiond"),
            ("actiond@.service", "/etc/actiond/%i.yaml", "actiond/%i", "actiond/%i"),
        ] {
            let unit = settings(try unitText(name))
            func value(_ key: String) -> String? { unit.last { $0.key == key }?.value }
            XCTAssertEqual(value("Type"), "notify", name)
            XCTAssertEqual(value("NotifyAccess"), "main", name)
            XCTAssertEqual(value("ExecStart"), "/usr/local/bin/actiond run --config \(config)", name)
            XCTAssertEqual(value("ExecReload"), "/bin/kill -HUP $MAINPID", name)
            XCTAssertEqual(value("WatchdogSec"), "30", name)
            XCTAssertEqual(value("Restart"), "on-failure", name)
            XCTAssertEqual(value("KillSignal"), "SIGTERM", name)
            XCTAssertEqual(value("DynamicUser"), "yes", name)
            XCTAssertEqual(value("StateDirectory")?.split(separator: " ").first.map(String.init), state, name)
            XCTAssertEqual(value("LogsDirectory"), logs, name)
            XCTAssertEqual(value("ProtectSystem"), "strict", name)
            for key in ["ProtectHome", "PrivateTmp", "NoNewPrivileges", "LockPersonality", "RestrictRealtime"] {
                XCTAssertEqual(value(key), "yes", "\(name): \(key)")
            }
            XCTAssertEqual(value("RestrictAddressFamilies"), "AF_UNIX AF_INET AF_INET6", name)
            XCTAssertTrue(unit.contains { $0.key == "EnvironmentFile" && $0.value == "-/etc/actiond/actiond.env" })
            XCTAssertNotNil(value("ReadWritePaths"), name)
            let folders = ["inbox", "done", "quarantine"].map { "/var/lib/\(state)/\($0)" }
            XCTAssertEqual(value("ExecStartPre"), "/bin/mkdir -p " + folders.joined(separator: " "), name)
        }
    }

    func testHardeningExposureStaysLow() throws {
        // `systemd-analyze security --offline` scores the sandbox (0 = locked down, 10 = none). Dropping a
        // hardening line raises the score; this keeps it from drifting up unnoticed.
        guard let analyze = Self.analyze else { throw XCTSkip("systemd-analyze is not installed") }
        let directory = try temporaryDirectory()
        let text = try unitText("actiond.service").replacingOccurrences(
            of: "/usr/local/bin/actiond ", with: "/bin/true ")
        try text.write(to: directory.appendingPathComponent("actiond.service"), atomically: true, encoding: .utf8)
        let result = try run(analyze, ["security", "--offline=true", "--no-pager", "./actiond.service"], in: directory)
        guard let line = result.stdout.split(separator: "\n").first(where: { $0.contains("Overall exposure level") })
        else {
            throw XCTSkip("this systemd-analyze cannot score unit files offline: \(result.stderr)")
        }
        let score = line.split(separator: ":").last.flatMap { $0.split(separator: " ").first }.flatMap { Double($0) }
        XCTAssertNotNil(score, String(line))
        XCTAssertLessThanOrEqual(score ?? 10, 3.0, String(line))
    }

    func testMakeInstallAndUninstallWithDestdir() throws {
        guard FileManager.default.isExecutableFile(atPath: "/usr/bin/make") else {
            throw XCTSkip("make is not installed")
        }
        let root = try temporaryDirectory()
        let destdir = root.appendingPathComponent("pkg").path
        // A stand-in binary: the test checks the layout, not the build.
        let binary = root.appendingPathComponent("actiond-binary")
        try "#!/bin/sh\nexit 0\n".write(to: binary, atomically: true, encoding: .utf8)
        try FileManager.default.setAttributes([.posixPermissions: 0o755], ofItemAtPath: binary.path)
        let variables = ["DESTDIR=\(destdir)", "PREFIX=/opt/actiond", "BIN=\(binary.path)"]
        let repo = Self.repository.path

        let install = try run("/usr/bin/make", ["-s", "-C", repo, "install"] + variables)
        XCTAssertEqual(install.status, 0, install.stderr + install.stdout)
        let files = FileManager.default
        for path in [
            "opt/actiond/bin/actiond", "opt/actiond/lib/systemd/system/actiond.service",
            "opt/actiond/lib/systemd/system/actiond@.service", "opt/actiond/share/actiond/pipelines/default.yaml",
            "opt/actiond/share/actiond/models/default/actions-r2plus1d.yaml", "etc/actiond/pipeline.yaml",
            "etc/actiond/actiond.env.example",
        ] {
            XCTAssertTrue(files.fileExists(atPath: "\(destdir)/\(path)"), "make install did not write \(path)")
        }
        XCTAssertTrue(files.isExecutableFile(atPath: "\(destdir)/opt/actiond/bin/actiond"))
        let service = try String(
            contentsOfFile: "\(destdir)/opt/actiond/lib/systemd/system/actiond.service",
            encoding: .utf8)
        XCTAssertTrue(
            service.contains("\nExecStart=/opt/actiond/bin/actiond run --config /etc/actiond/pipeline.yaml\n"))
        XCTAssertFalse(service.contains("/usr/local/bin/actiond"))
        let config = try String(contentsOfFile: "\(destdir)/etc/actiond/pipeline.yaml", encoding: .utf8)
        XCTAssertTrue(config.contains("/opt/actiond/share/actiond/models/default/"), config)
        XCTAssertFalse(config.contains("../models/"), config)

        // An existing config is never overwritten.
        try "# mine\n".write(toFile: "\(destdir)/etc/actiond/pipeline.yaml", atomically: true, encoding: .utf8)
        let again = try run("/usr/bin/make", ["-s", "-C", repo, "install"] + variables)
        XCTAssertEqual(again.status, 0, again.stderr)
        XCTAssertEqual(try String(contentsOfFile: "\(destdir)/etc/actiond/pipeline.yaml", encoding: .utf8), "# mine\n")

        // Uninstall removes what install put and keeps the changed config.
        let uninstall = try run("/usr/bin/make", ["-s", "-C", repo, "uninstall"] + variables)
        XCTAssertEqual(uninstall.status, 0, uninstall.stderr)
        let left = files.enumerator(atPath: destdir)?.compactMap { $0 as? String }.filter {
            var isDirectory: ObjCBool = false
            return files.fileExists(atPath: "\(destdir)/\($0)", isDirectory: &isDirectory) && !isDirectory.boolValue
        }
        XCTAssertEqual(left, ["etc/actiond/pipeline.yaml"])
        try files.removeItem(atPath: "\(destdir)/etc/actiond/pipeline.yaml")

        // An unchanged config goes with the rest.
        XCTAssertEqual(try run("/usr/bin/make", ["-s", "-C", repo, "install"] + variables).status, 0)
        XCTAssertEqual(try run("/usr/bin/make", ["-s", "-C", repo, "uninstall"] + variables).status, 0)
        let remaining = files.enumerator(atPath: destdir)?.compactMap { $0 as? String }.filter {
            var isDirectory: ObjCBool = false
            return files.fileExists(atPath: "\(destdir)/\($0)", isDirectory: &isDirectory) && !isDirectory.boolValue
        }
        XCTAssertEqual(remaining, [])
    }

    func testInstalledUnitsVerify() throws {
        // The units as make install writes them (PREFIX rewritten) are still valid units.
        guard FileManager.default.isExecutableFile(atPath: "/usr/bin/make") else {
            throw XCTSkip("make is not installed")
        }
        let root = try temporaryDirectory()
        let binary = root.appendingPathComponent("actiond-binary")
        try "#!/bin/sh\nexit 0\n".write(to: binary, atomically: true, encoding: .utf8)
        try FileManager.default.setAttributes([.posixPermissions: 0o755], ofItemAtPath: binary.path)
        let destdir = root.appendingPathComponent("pkg").path
        let install = try run(
            "/usr/bin/make",
            ["-s", "-C", Self.repository.path, "install", "DESTDIR=\(destdir)", "PREFIX=/srv/x", "BIN=\(binary.path)"])
        XCTAssertEqual(install.status, 0, install.stderr)
        let units = URL(fileURLWithPath: "\(destdir)/srv/x/lib/systemd/system")
        let service = try String(contentsOf: units.appendingPathComponent("actiond.service"), encoding: .utf8)
        XCTAssertTrue(service.contains("ExecStart=/srv/x/bin/actiond run"))
        let template = try String(contentsOf: units.appendingPathComponent("actiond@.service"), encoding: .utf8)
        let checkDirectory = root.appendingPathComponent("verify")
        try FileManager.default.createDirectory(at: checkDirectory, withIntermediateDirectories: true)
        try verify(service, as: "actiond.service", in: checkDirectory)
        try verify(template, as: "actiond@demo.service", in: checkDirectory)
    }
}
