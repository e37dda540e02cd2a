// Schema v1 output records: exact bytes of action and lifecycle lines, JSON escaping that survives a real parser,
// dedupe keys rebuilt from log lines, and the stdout sink's human lines.
import Foundation
import TextFormat
import XCTest

@testable import Daemon

final class EventTests: XCTestCase {
    /// 2026-11-21T10:00:03.120Z, the DESIGN.md example time.
    private let exampleTime = Date(timeIntervalSince1970: 1_795_255_203.12)

    private func sampleEvent(
        track: Int? = 7, box: [Double]? = [104, 40, 58.5, 170.25], score: Double = 0.93, start: Double = 12.4,
        end: Double = 14
    ) -> ActionEvent {
        ActionEvent(
            ts: exampleTime, source: "door-cam", media: "rtsp://10.0.0.5/stream1", track: track, label: "wave",
            score: score, start: start, end: end, box: box, model: "actions-r2plus1d", modelSHA256: "ab12cd")
    }

    private func parse(_ line: String, file: StaticString = #filePath, line number: UInt = #line) -> [String: Any] {
        guard let data = line.data(using: .utf8),
            let object = try? JSONSerialization.jsonObject(with: data) as? [String: Any]
        else {
            XCTFail("not a JSON object: \(line)", file: file, line: number)
            return [:]
        }
        return object
    }

    func testActionLineHasTheSchemaKeysInOrderWithFixedNumberFormats() {
        XCTAssertEqual(
            sampleEvent().jsonLine,
            #"{"v":1,"ts":"2026-11-21T10:00:03.120Z","source":"door-cam","media":"rtsp://10.0.0.5/stream1","#
                + #""track":7,"label":"wave","score":0.9300,"start":12.400,"end":14.000,"box":[104,40,58.5,170.25],"#
                + #""model":"actions-r2plus1d","model_sha256":"ab12cd"}"#)
    }

    func testNilTrackIsNullAndNilBoxIsOmitted() {
        let line = sampleEvent(track: nil, box: nil).jsonLine
        XCTAssertEqual(
            line,
            #"{"v":1,"ts":"2026-11-21T10:00:03.120Z","source":"door-cam","media":"rtsp://10.0.0.5/stream1","#
                + #""track":null,"label":"wave","score":0.9300,"start":12.400,"end":14.000,"#
                + #""model":"actions-r2plus1d","model_sha256":"ab12cd"}"#)
        let fields = parse(line)
        XCTAssertTrue(fields["track"] is NSNull)
        XCTAssertNil(fields["box"])
        XCTAssertFalse(line.contains("\n"))
    }

    func testNumbersAreFixedDecimalsWithoutExponentOrNegativeZero() {
        XCTAssertEqual(decimal(0.00000001, digits: 4), "0.0000")
        XCTAssertEqual(decimal(-0.00001, digits: 4), "0.0000")
        XCTAssertEqual(decimal(-0.0, digits: 3), "0.000")
        XCTAssertEqual(decimal(-1.5, digits: 3), "-1.500")
        XCTAssertEqual(decimal(0.99996, digits: 4), "1.0000")
        XCTAssertEqual(decimal(123_456_789.5, digits: 3), "123456789.500")
        XCTAssertEqual(decimal(1e21, digits: 3), "1000000000000000000000.000")
        XCTAssertEqual(decimal(.nan, digits: 3), "null")
        XCTAssertEqual(decimal(-.infinity, digits: 4), "null")
        XCTAssertEqual(LineFormat.boxCoordinate(104), "104")
        XCTAssertEqual(LineFormat.boxCoordinate(40.5), "40.5")
        XCTAssertEqual(LineFormat.boxCoordinate(-0.001), "0")
        XCTAssertEqual(LineFormat.boxCoordinate(7.126), "7.13")

        // A line with out-of-range numbers is still valid JSON (null where JSON has no number for it).
        let line = sampleEvent(box: [1e20, .nan, 0, 3], score: .nan, start: 1e7 + 0.0626, end: .infinity).jsonLine
        XCTAssertFalse(line.contains("e+"), line)
        let fields = parse(line)
        XCTAssertTrue(fields["score"] is NSNull)
        XCTAssertTrue(fields["end"] is NSNull)
        XCTAssertEqual((fields["start"] as? NSNumber)?.doubleValue, 10_000_000.063)
        XCTAssertTrue(line.contains(#""box":[100000000000000000000,null,0,3]"#), line)
    }

    func testTimestampIsUTCWithRoundedMilliseconds() {
        XCTAssertEqual(LineFormat.timestamp(Date(timeIntervalSince1970: 0)), "1970-01-01T00:00:00.000Z")
        XCTAssertEqual(LineFormat.timestamp(exampleTime), "2026-11-21T10:00:03.120Z")
        // 999.9996 s rounds up into the next second, minute and hour fields carried.
        XCTAssertEqual(LineFormat.timestamp(Date(timeIntervalSince1970: 3599.9996)), "1970-01-01T01:00:00.000Z")
        XCTAssertEqual(LineFormat.timestamp(Date(timeIntervalSince1970: -0.25)), "1969-12-31T23:59:59.750Z")
        XCTAssertEqual(LineFormat.timestamp(Date(timeIntervalSince1970: 951_782_400.007)), "2000-02-29T00:00:00.007Z")
        // The same instant through Foundation's own formatter (which truncates, so compare a whole millisecond).
        let formatter = ISO8601DateFormatter()
        formatter.formatOptions = [.withInternetDateTime, .withFractionalSeconds]
        formatter.timeZone = TimeZone(identifier: "UTC")
        let whole = Date(timeIntervalSince1970: 1_700_000_123.456)
        XCTAssertEqual(LineFormat.timestamp(whole), formatter.string(from: whole))
    }

    private let nastyStrings: [String] = [
        "", "plain", "quote\"inside", "back\\slash", "\\\"", "line\nbreak", "cr\rlf\r\n", "tab\there",
        "\u{8}\u{C}", "\u{0}nul", "\u{1}\u{1F}\u{7F}", "é日本語🎬👩‍👩‍👧", "\u{2028}\u{2029}",
        "</script>",
        "{\"v\":1}", "ends with backslash\\", String(repeating: "\"\\\n", count: 100),
    ]

    func testEscapedStringsRoundTripThroughJSONSerialization() {
        for text in nastyStrings {
            let event = ActionEvent(
                ts: exampleTime, source: text, media: "/in/" + text, track: nil, label: text, score: 0.5, start: 0,
                end: 1, model: text, modelSHA256: text)
            let line = event.jsonLine
            XCTAssertFalse(line.contains("\n"), "raw newline in \(line)")
            XCTAssertFalse(line.utf8.contains { $0 < 0x20 }, "raw control byte in \(line)")
            let fields = parse(line)
            XCTAssertEqual(fields["source"] as? String, text)
            XCTAssertEqual(fields["media"] as? String, "/in/" + text)
            XCTAssertEqual(fields["label"] as? String, text)
            XCTAssertEqual(fields["model"] as? String, text)
            XCTAssertEqual(fields["model_sha256"] as? String, text)
        }
    }

    func testEscapingUsesTheShortFormsAndLowercaseUnicodeEscapes() {
        XCTAssertEqual(jsonString("a\"b\\c"), #""a\"b\\c""#)
        XCTAssertEqual(jsonString("\u{8}\t\n\u{C}\r"), #""\b\t\n\f\r""#)
        XCTAssertEqual(jsonString("\u{0}\u{1B}\u{1F}"), #""\u0000\u001b\u001f""#)
        XCTAssertEqual(jsonString("é/🎬"), "\"é/🎬\"")
        XCTAssertEqual(jsonString(""), "\"\"")
    }

    func testDedupeKeyHasTheDocumentedForm() {
        let event = ActionEvent(
            ts: exampleTime, source: "inbox", media: "/in/a.mp4", label: "wave", score: 1, start: 12.4, end: 13,
            model: "m", modelSHA256: "s")
        XCTAssertEqual(event.dedupeKey, "inbox\u{1F}/in/a.mp4\u{1F}-1\u{1F}wave\u{1F}12.400")
        var tracked = event
        tracked.track = 3
        XCTAssertEqual(tracked.dedupeKey, "inbox\u{1F}/in/a.mp4\u{1F}3\u{1F}wave\u{1F}12.400")
        // Score, end, ts, box and model are not part of the identity; start counts to the millisecond written.
        var rescored = event
        rescored.score = 0.2
        rescored.end = 99
        rescored.ts = Date(timeIntervalSince1970: 5)
        rescored.start = 12.4001
        XCTAssertEqual(rescored.dedupeKey, event.dedupeKey)
        rescored.start = 12.401
        XCTAssertNotEqual(rescored.dedupeKey, event.dedupeKey)
    }

    func testDedupeKeyParsedFromALineEqualsTheEventsKey() {
        var events: [ActionEvent] = []
        let starts: [Double] = [0, 12.4, 0.0005, 0.0015, 1e6 + 0.0125, 3599.9999, 7, .nan, -0.0]
        for (index, start) in starts.enumerated() {
            let text = nastyStrings[index % nastyStrings.count]
            events.append(
                ActionEvent(
                    ts: exampleTime, source: "src" + text, media: text, track: index % 2 == 0 ? nil : index * 1000,
                    label: "label" + text, score: 0.75, start: start, end: start + 1, box: [1, 2, 3, 4],
                    model: "m", modelSHA256: "s"))
        }
        events.append(sampleEvent(track: -5))
        events.append(sampleEvent(track: Int(Int32.max)))
        for event in events {
            XCTAssertEqual(ActionEvent.dedupeKey(jsonLine: event.jsonLine), event.dedupeKey, event.jsonLine)
        }
        // Distinct events keep distinct keys after the round trip (every event here differs in a key field).
        let parsed = Set(events.compactMap { ActionEvent.dedupeKey(jsonLine: $0.jsonLine) })
        XCTAssertEqual(parsed.count, events.count)
    }

    func testDedupeKeyIsNilForLifecycleLinesAndGarbage() {
        let lifecycle = LifecycleEvent(
            ts: exampleTime, source: "inbox", kind: .quarantine, media: "/in/bad.mp4",
            fields: [("label", .string("wave")), ("start", .double(1)), ("track", .int(1))])
        XCTAssertNil(ActionEvent.dedupeKey(jsonLine: lifecycle.jsonLine))
        let full = sampleEvent().jsonLine
        let candidates = [
            "", "garbage", "{}", "[]", "null", #"{"v":1,"ts"#, String(full.dropLast()),
            full.replacingOccurrences(of: #""v":1"#, with: #""v":2"#),
            full.replacingOccurrences(of: #""track":7"#, with: #""track":7.5"#),
            full.replacingOccurrences(of: #""track":7"#, with: #""track":"7""#),
            full.replacingOccurrences(of: #""label":"wave""#, with: #""label":3"#),
            full.replacingOccurrences(of: #""start":12.400"#, with: #""start":"12.4""#),
        ]
        for line in candidates {
            XCTAssertNil(ActionEvent.dedupeKey(jsonLine: line), line)
        }
    }

    func testLifecycleLineHasFixedKeysThenExtraFieldsInOrder() {
        let event = LifecycleEvent(
            ts: exampleTime, source: "door-cam", kind: .reconnect, media: "rtsp://10.0.0.5/stream1",
            fields: [
                ("attempt", .int(3)), ("delay", .double(2.25)), ("outage", .double(41.0004)),
                ("reason", .string("i/o \"timeout\"")), ("resolution_changed", .bool(false)),
            ])
        XCTAssertEqual(
            event.jsonLine,
            #"{"v":1,"ts":"2026-11-21T10:00:03.120Z","source":"door-cam","event":"reconnect","#
                + #""media":"rtsp://10.0.0.5/stream1","attempt":3,"delay":2.250,"outage":41.000,"#
                + #""reason":"i/o \"timeout\"","resolution_changed":false}"#)
        let fields = parse(event.jsonLine)
        XCTAssertEqual(fields["event"] as? String, "reconnect")
        XCTAssertEqual((fields["attempt"] as? NSNumber)?.intValue, 3)
        XCTAssertEqual(fields["reason"] as? String, "i/o \"timeout\"")
    }

    func testEveryLifecycleKindParsesAndMediaIsOmittedWhenNil() {
        let expected = [
            "source_up", "source_down", "reconnect", "quarantine", "file_done", "file_skipped", "config_reload",
        ]
        XCTAssertEqual(LifecycleEvent.Kind.allCases.map(\.rawValue), expected)
        for kind in LifecycleEvent.Kind.allCases {
            let line = LifecycleEvent(ts: exampleTime, source: "s\n1", kind: kind).jsonLine
            let fields = parse(line)
            XCTAssertEqual(fields["v"] as? Int, 1)
            XCTAssertEqual(fields["event"] as? String, kind.rawValue)
            XCTAssertEqual(fields["source"] as? String, "s\n1")
            XCTAssertEqual(fields["ts"] as? String, "2026-11-21T10:00:03.120Z")
            XCTAssertNil(fields["media"])
            XCTAssertEqual(fields.count, 4)
        }
    }

    func testLifecycleFieldsThatRepeatAKeyAreDroppedSoKeysStayUnique() {
        let event = LifecycleEvent(
            ts: exampleTime, source: "inbox", kind: .quarantine, media: "/in/x.mp4",
            fields: [
                ("reason", .string("moov atom not found")), ("source", .string("forged")), ("v", .int(9)),
                ("reason", .string("second")), ("nan", .double(.nan)),
            ])
        XCTAssertEqual(
            event.jsonLine,
            #"{"v":1,"ts":"2026-11-21T10:00:03.120Z","source":"inbox","event":"quarantine","media":"/in/x.mp4","#
                + #""reason":"moov atom not found","nan":null}"#)
        XCTAssertEqual(parse(event.jsonLine)["source"] as? String, "inbox")
    }

    func testLifecycleEqualityComparesFieldsInOrder() {
        let a = LifecycleEvent(
            ts: exampleTime, source: "s", kind: .fileDone, media: "m", fields: [("a", .int(1)), ("b", .bool(true))])
        var b = a
        XCTAssertEqual(a, b)
        b.fields = [("b", .bool(true)), ("a", .int(1))]
        XCTAssertNotEqual(a, b)
        b.fields = [("a", .int(1)), ("b", .bool(false))]
        XCTAssertNotEqual(a, b)
        b.fields = [("a", .int(1))]
        XCTAssertNotEqual(a, b)
        b = a
        b.media = nil
        XCTAssertNotEqual(a, b)
        XCTAssertNotEqual(LifecycleValue.int(1), LifecycleValue.double(1))
    }

    func testStdoutTextLinesAreShortAndStayOnOneLine() {
        let event = ActionEvent(
            ts: exampleTime, source: "inbox", media: "/var/lib/actiond/inbox/clip.mp4", label: "wave", score: 0.93,
            start: 12.4, end: 14, model: "m", modelSHA256: "s")
        XCTAssertEqual(StdoutSink.textLine(event), "2026-11-21T10:00:03.120Z inbox clip.mp4 wave 0.93 12.40–14.00s")
        var tracked = sampleEvent()
        tracked.label = "sit down"
        XCTAssertEqual(
            StdoutSink.textLine(tracked),
            "2026-11-21T10:00:03.120Z door-cam rtsp://10.0.0.5/stream1 #7 \"sit down\" 0.93 12.40–14.00s")
        tracked.media = "/in/evil\nname.mp4"
        XCTAssertFalse(StdoutSink.textLine(tracked).contains("\n"))

        let lifecycle = LifecycleEvent(
            ts: exampleTime, source: "inbox", kind: .quarantine, media: "/in/bad.mp4",
            fields: [("reason", .string("no video stream")), ("attempt", .int(2)), ("delay", .double(1.5))])
        XCTAssertEqual(
            StdoutSink.textLine(lifecycle),
            "2026-11-21T10:00:03.120Z inbox quarantine bad.mp4 reason=\"no video stream\" attempt=2 delay=1.500")
    }
}
