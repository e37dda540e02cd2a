// The inotify watcher against real writers in a temp folder: files already there, closed after writing,
// renamed in, written by a writer that keeps the file open (settle), create-close-reopen writers, temporary
// names, recursion, and a watched folder that disappears and comes back.
@testable import Daemon
import Foundation
import Glibc
import Synchronization
import TestSupport
import XCTest

final class DirectoryWatcherTests: XCTestCase {
    var dir: URL!

    override func setUpWithError() throws {
        dir = FileManager.default.temporaryDirectory.appendingPathComponent("watch-\(getpid())-\(name.filter(\.isLetter))")
        try? FileManager.default.removeItem(at: dir)
        try FileManager.default.createDirectory(at: dir.appendingPathComponent("in"), withIntermediateDirectories: true)
    }

    override func tearDownWithError() throws { try? FileManager.default.removeItem(at: dir) }

    func path(_ relative: String) -> String { dir.appendingPathComponent(relative).path }

    /// Collects notices from a running watcher on a background task.
    final class Recorder: Sendable {
        let notices = Mutex<[WatchNotice]>([])
        var ready: [ReadyFile] {
            notices.withLock { $0.compactMap { if case let .ready(file) = $0 { return file } else { return nil } } }
        }
        func readyNames() -> [String] { ready.map { ($0.path as NSString).lastPathComponent } }
        func wait(_ timeout: Double = 10, until condition: (Recorder) -> Bool) -> Bool {
            let deadline = Date().addingTimeInterval(timeout)
            while Date() < deadline {
                if condition(self) { return true }
                usleep(20_000)
            }
            return condition(self)
        }
    }

    func start(_ watcher: DirectoryWatcher) throws -> (Recorder, Task<Void, Never>) {
        let recorder = Recorder()
        let stream = try watcher.notices()
        let task = Task { for await notice in stream { recorder.notices.withLock { $0.append(notice) } } }
        XCTAssertTrue(recorder.wait { $0.notices.withLock { $0.contains(.watching) } })
        return (recorder, task)
    }

    func testExistingClosedRenamedAndIgnoredFiles() throws {
        try Data("old".utf8).write(to: URL(fileURLWithPath: path("in/old.mp4")))
        let oldTime = Date().addingTimeInterval(-60).timeIntervalSince1970
        var times = [timeval(tv_sec: Int(oldTime), tv_usec: 0), timeval(tv_sec: Int(oldTime), tv_usec: 0)]
        XCTAssertEqual(utimes(path("in/old.mp4"), &times), 0)
        try Data("x".utf8).write(to: URL(fileURLWithPath: path("in/notes.txt")))
        let watcher = DirectoryWatcher(directory: path("in"), match: ["*.mp4", "*.mkv"], settle: 5)
        let (recorder, task) = try start(watcher)
        defer { watcher.stop(); task.cancel() }
        XCTAssertTrue(recorder.wait { $0.readyNames() == ["old.mp4"] }, "\(recorder.readyNames())")
        XCTAssertEqual(recorder.ready.first?.reason, .existing)

        // Closed after writing (one open/write/close; `Data.write` without `.atomic`).
        try Data(repeating: 1, count: 1000).write(to: URL(fileURLWithPath: path("in/closed.mkv")))
        // Written under a temporary name, then renamed in; the temporary name itself is never reported.
        try Data(repeating: 2, count: 500).write(to: URL(fileURLWithPath: path("in/moved.mp4.part")))
        XCTAssertEqual(rename(path("in/moved.mp4.part"), path("in/moved.mp4")), 0)
        // Hidden files and other extensions are ignored.
        try Data(repeating: 3, count: 10).write(to: URL(fileURLWithPath: path("in/.hidden.mp4")))
        try Data(repeating: 3, count: 10).write(to: URL(fileURLWithPath: path("in/readme.txt")))
        XCTAssertTrue(recorder.wait { Set($0.readyNames()) == ["old.mp4", "closed.mkv", "moved.mp4"] },
                      "\(recorder.readyNames())")
        let reasons = Dictionary(recorder.ready.map { (($0.path as NSString).lastPathComponent, $0.reason) },
                                 uniquingKeysWith: { a, _ in a })
        XCTAssertEqual(reasons["closed.mkv"], .closed)
        XCTAssertEqual(reasons["moved.mp4"], .movedIn)
        usleep(500_000)
        XCTAssertEqual(recorder.readyNames().count, 3, "each file once: \(recorder.readyNames())")
    }

    /// Waits until the watcher has looked at its pending files after this point: `extra` more clock reads than
    /// now. One loop pass reads the clock once per inotify event it drains and once to check pending files, so a
    /// pass that began before this call accounts for at most `extra - 1` of them.
    func waitForWatcher(_ clock: ManualClock, extra: Int = 4) {
        let target = clock.reads + extra
        let looked = eventually(timeout: 10, poll: 0.005) { clock.reads >= target }
        XCTAssertTrue(looked, "the watcher stopped reading its clock")
    }

    /// A writer that keeps the file open is taken only after `settle` seconds without a change, measured on the
    /// watcher's clock: a test clock that moves only when advanced, so no real time passes for it.
    func testOpenWritersAreTakenOnlyWhenStill() throws {
        let clock = ManualClock()
        let watcher = DirectoryWatcher(directory: path("in"), match: ["*.mp4"], settle: 0.8,
                                       clock: { clock.now() })
        let (recorder, task) = try start(watcher)
        defer { watcher.stop(); task.cancel() }
        let fd = open(path("in/open.mp4"), O_WRONLY | O_CREAT, 0o644)
        XCTAssertGreaterThanOrEqual(fd, 0)
        defer { close(fd) }
        let block = [UInt8](repeating: 7, count: 4096)
        for _ in 0..<5 {
            XCTAssertEqual(write(fd, block, block.count), block.count)
            waitForWatcher(clock)
            clock.advance(by: 0.7)  // pauses shorter than the settle time
        }
        waitForWatcher(clock, extra: 2)
        XCTAssertTrue(recorder.ready.isEmpty, "taken while still being written: \(recorder.readyNames())")
        // The writer stops writing but keeps the file open: once `settle` has passed it is taken.
        clock.advance(by: 0.1)
        XCTAssertTrue(recorder.wait { $0.readyNames() == ["open.mp4"] })
        XCTAssertEqual(recorder.ready.first?.reason, .settled)
    }

    /// A writer that creates the file empty, closes it and reopens it to write is not taken at the first close.
    func testCreateCloseReopenWritersAreTakenOnceAtTheEnd() throws {
        let watcher = DirectoryWatcher(directory: path("in"), match: ["*.mp4"], settle: 0.8)
        let (recorder, task) = try start(watcher)
        defer { watcher.stop(); task.cancel() }
        // create + close empty, reopen, write in pieces, close: taken once, at the end, with all bytes.
        _ = FileManager.default.createFile(atPath: path("in/reopened.mp4"), contents: nil)
        let handle = try XCTUnwrap(FileHandle(forWritingAtPath: path("in/reopened.mp4")))
        for _ in 0..<3 {
            try handle.write(contentsOf: Data(repeating: 9, count: 1000))
            usleep(100_000)
        }
        try handle.close()
        XCTAssertTrue(recorder.wait { $0.readyNames().contains("reopened.mp4") })
        let size = try FileManager.default.attributesOfItem(atPath: path("in/reopened.mp4"))[.size] as? Int
        XCTAssertEqual(size, 3000)
        usleep(1_200_000)
        XCTAssertEqual(recorder.readyNames().filter { $0 == "reopened.mp4" }.count, 1)
    }

    func testRecursiveWatchFollowsNewSubfoldersAndSkipsExcludedOnes() throws {
        let watcher = DirectoryWatcher(directory: path("in"), match: ["*.mp4"], recursive: true, settle: 1,
                                       excluded: [path("in/done")])
        let (recorder, task) = try start(watcher)
        defer { watcher.stop(); task.cancel() }
        try FileManager.default.createDirectory(atPath: path("in/cam1/2026"), withIntermediateDirectories: true)
        usleep(200_000)
        try Data(repeating: 1, count: 10).write(to: URL(fileURLWithPath: path("in/cam1/2026/a.mp4")))
        try FileManager.default.createDirectory(atPath: path("in/done"), withIntermediateDirectories: true)
        usleep(200_000)
        try Data(repeating: 1, count: 10).write(to: URL(fileURLWithPath: path("in/done/b.mp4")))
        XCTAssertTrue(recorder.wait { $0.readyNames() == ["a.mp4"] }, "\(recorder.readyNames())")
        usleep(500_000)
        XCTAssertEqual(recorder.readyNames(), ["a.mp4"], "nothing from the excluded folder")

        // The name filter: matching names only, no partial-download names or dotfiles.
        XCTAssertTrue(watcher.accepts(name: "x.mp4"))
        XCTAssertFalse(watcher.accepts(name: "x.mp4.crdownload"))
        XCTAssertFalse(watcher.accepts(name: ".x.mp4"))
    }

    func testNonRecursiveWatchIgnoresSubfolders() throws {
        try FileManager.default.createDirectory(atPath: path("in/sub"), withIntermediateDirectories: true)
        try Data(repeating: 1, count: 10).write(to: URL(fileURLWithPath: path("in/sub/old.mp4")))  // before start
        let flat = DirectoryWatcher(directory: path("in"), match: ["*.mp4"], recursive: false, settle: 1)
        let (recorder, task) = try start(flat)
        defer { flat.stop(); task.cancel() }
        usleep(200_000)
        try Data(repeating: 1, count: 10).write(to: URL(fileURLWithPath: path("in/sub/x.mp4")))
        try Data(repeating: 1, count: 10).write(to: URL(fileURLWithPath: path("in/y.mp4")))
        XCTAssertTrue(recorder.wait { $0.readyNames() == ["y.mp4"] }, "\(recorder.readyNames())")
        usleep(500_000)
        XCTAssertEqual(recorder.readyNames(), ["y.mp4"], "nothing from the subfolder")
    }

    func testMissingFolderIsAnErrorAndALostFolderComesBack() throws {
        XCTAssertThrowsError(try DirectoryWatcher(directory: path("nope"), match: ["*"]).notices()) { error in
            XCTAssertTrue("\(error)".contains("nope"), "\(error)")
        }
        _ = FileManager.default.createFile(atPath: path("file"), contents: Data())
        XCTAssertThrowsError(try DirectoryWatcher(directory: path("file"), match: ["*"]).notices()) { error in
            XCTAssertTrue("\(error)".contains("not a folder"), "\(error)")
        }
        let watcher = DirectoryWatcher(directory: path("in"), match: ["*.mp4"], settle: 0.5)
        let (recorder, task) = try start(watcher)
        defer { watcher.stop(); task.cancel() }
        try FileManager.default.removeItem(atPath: path("in"))
        XCTAssertTrue(recorder.wait { $0.notices.withLock { $0.contains { if case .lost = $0 { true } else { false } } } })
        try FileManager.default.createDirectory(atPath: path("in"), withIntermediateDirectories: true)
        XCTAssertTrue(recorder.wait { $0.notices.withLock { $0.filter { $0 == .watching }.count == 2 } })
        try Data(repeating: 1, count: 10).write(to: URL(fileURLWithPath: path("in/back.mp4")))
        XCTAssertTrue(recorder.wait { $0.readyNames() == ["back.mp4"] }, "\(recorder.readyNames())")
    }

    /// The watch is reported in place before the files already in the folder: an owner that spends long on those
    /// (the redo of an interrupted file) is still known to be watching.
    func testWatchingIsReportedBeforeTheFilesAlreadyThere() throws {
        try Data("old".utf8).write(to: URL(fileURLWithPath: path("in/old.mp4")))
        let oldTime = Date().addingTimeInterval(-60).timeIntervalSince1970
        var times = [timeval(tv_sec: Int(oldTime), tv_usec: 0), timeval(tv_sec: Int(oldTime), tv_usec: 0)]
        XCTAssertEqual(utimes(path("in/old.mp4"), &times), 0)
        let watcher = DirectoryWatcher(directory: path("in"), match: ["*.mp4"], settle: 5)
        let (recorder, task) = try start(watcher)
        defer { watcher.stop(); task.cancel() }
        XCTAssertTrue(recorder.wait { $0.readyNames() == ["old.mp4"] })
        let notices = recorder.notices.withLock { $0 }
        XCTAssertEqual(notices.first, .watching, "\(notices)")
        XCTAssertEqual(notices.firstIndex(of: .watching), 0)
    }

    /// Entries that are not taken — a folder of a flat watch, a symbolic link loop, a link to a folder (a loop in
    /// a recursive watch) — are reported, each once, whether there at the start or made later.
    func testSkippedEntriesAreReportedOnce() throws {
        let fm = FileManager.default
        try fm.createDirectory(atPath: path("in/sub"), withIntermediateDirectories: true)
        XCTAssertEqual(symlink("loop.mp4", path("in/loop.mp4")), 0)  // points at itself
        let flat = DirectoryWatcher(directory: path("in"), match: ["*.mp4"], settle: 0.5)
        let (recorder, task) = try start(flat)
        defer { flat.stop(); task.cancel() }
        func skipped() -> [String: String] {
            var result: [String: String] = [:]
            for case let .skipped(path, reason) in recorder.notices.withLock({ $0 }) {
                XCTAssertNil(result[path], "\(path) reported twice")
                result[(path as NSString).lastPathComponent] = reason
            }
            return result
        }
        XCTAssertTrue(recorder.wait { _ in skipped().count == 2 }, "\(skipped())")
        XCTAssertEqual(skipped()["sub"], "a folder (the watch is not recursive)")
        XCTAssertTrue(skipped()["loop.mp4"]?.contains("symbolic link that cannot be followed") ?? false, "\(skipped())")

        // Made while watching: a folder and another loop; then the loop is made again, and a good file arrives.
        try fm.createDirectory(atPath: path("in/later"), withIntermediateDirectories: true)
        XCTAssertEqual(symlink("loop2.mp4", path("in/loop2.mp4")), 0)
        XCTAssertTrue(recorder.wait { _ in skipped().count == 4 }, "\(skipped())")
        XCTAssertEqual(unlink(path("in/loop2.mp4")), 0)
        XCTAssertEqual(symlink("loop2.mp4", path("in/loop2.mp4")), 0)
        try Data(repeating: 1, count: 10).write(to: URL(fileURLWithPath: path("in/good.mp4")))
        XCTAssertTrue(recorder.wait { $0.readyNames() == ["good.mp4"] }, "\(recorder.readyNames())")
        XCTAssertEqual(Set(skipped().keys), ["sub", "loop.mp4", "later", "loop2.mp4"])

        // Recursive: a link back up the tree is not followed (no endless descent), and says so.
        XCTAssertEqual(symlink("..", path("in/sub/up")), 0)
        let deep = DirectoryWatcher(directory: path("in"), match: ["*.mp4"], recursive: true, settle: 0.5)
        let deepRecorder = Recorder()
        let stream = try deep.notices()
        let deepTask = Task { for await notice in stream { deepRecorder.notices.withLock { $0.append(notice) } } }
        defer { deep.stop(); deepTask.cancel() }
        XCTAssertTrue(deepRecorder.wait {
            $0.notices.withLock { $0.contains(.skipped(path: self.path("in/sub/up"),
                                                       reason: "a symbolic link to a folder (not followed)")) }
        }, "\(deepRecorder.notices.withLock { $0 })")
    }

    /// A folder mounted inside itself (a bind mount: the same folder, a real loop without a symbolic link) is
    /// watched once and reported skipped where it repeats, instead of being descended into until paths overflow.
    func testBindMountLoopInARecursiveWatchIsSkipped() throws {
        try FileManager.default.createDirectory(atPath: path("in/a/b"), withIntermediateDirectories: true)
        let mount = Process()
        mount.executableURL = URL(fileURLWithPath: "/bin/mount")
        mount.arguments = ["--bind", path("in/a"), path("in/a/b")]
        mount.standardError = FileHandle.nullDevice
        try mount.run()
        mount.waitUntilExit()
        guard mount.terminationStatus == 0 else { throw XCTSkip("bind mounts are not permitted here") }
        defer {
            let umount = Process()
            umount.executableURL = URL(fileURLWithPath: "/bin/umount")
            umount.arguments = [path("in/a/b")]
            try? umount.run()
            umount.waitUntilExit()
        }
        let watcher = DirectoryWatcher(directory: path("in"), match: ["*.mp4"], recursive: true, settle: 0.5)
        let (recorder, task) = try start(watcher)
        defer { watcher.stop(); task.cancel() }
        XCTAssertTrue(recorder.wait {
            $0.notices.withLock { $0.contains { if case let .skipped(path, reason) = $0 {
                path == self.path("in/a/b") && reason.contains("the same folder as \(self.path("in/a")) (a loop)")
            } else { false } } }
        }, "\(recorder.notices.withLock { $0 })")
        try Data(repeating: 1, count: 10).write(to: URL(fileURLWithPath: path("in/a/x.mp4")))
        XCTAssertTrue(recorder.wait { $0.readyNames() == ["x.mp4"] }, "\(recorder.readyNames())")
        XCTAssertEqual(recorder.ready.first?.path, path("in/a/x.mp4"), "taken once, under its first path")
    }
}
