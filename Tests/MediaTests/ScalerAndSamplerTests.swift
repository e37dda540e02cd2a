// Pixel values through encode → decode → scale, the resize modes' geometry, and fps resampling by timestamp.
import Foundation
import Media
import XCTest

final class ScalerTests: XCTestCase {
    /// Four flat colour quadrants, encoded near-losslessly, must keep their colours through decode and
    /// scaling. Tolerance: ±12 levels at quadrant centres (4:2:0 chroma subsampling and lossy coding of flat
    /// areas stay well inside that; a wrong colour range or matrix moves white/black/primaries by ≥ 16).
    func testKnownColoursSurviveScaling() throws {
        let dir = try TestMedia.directory()
        let colours: [(UInt8, UInt8, UInt8)] = [(255, 255, 255), (0, 0, 0), (200, 40, 40), (40, 60, 200)]
        let (w, h) = (320, 240)
        var px = [UInt8](repeating: 0, count: w * h * 3)
        for y in 0..<h {
            for x in 0..<w {
                let c = colours[(y < h / 2 ? 0 : 2) + (x < w / 2 ? 0 : 1)]
                px[(y * w + x) * 3] = c.0; px[(y * w + x) * 3 + 1] = c.1; px[(y * w + x) * 3 + 2] = c.2
            }
        }
        let image = Image(width: w, height: h, format: .rgb24, pixels: px)
        for (name, codec) in [("q.mp4", VideoCodec.h264), ("q.avi", .mjpeg)] {
            let path = dir.appendingPathComponent(name)
            let encoder = try VideoEncoder(path: path.path, settings: EncoderSettings(
                width: w, height: h, codec: codec, quality: codec == .h264 ? 12 : 2))
            for _ in 0..<3 { try encoder.append(image) }
            try encoder.finish()
            let frame = try XCTUnwrap(try VideoDecoder(path.path).nextFrame())
            for (tw, th) in [(w, h), (112, 112), (57, 31)] {
                let out = try Scaler(width: tw, height: th).convert(frame)
                for q in 0..<4 {
                    let cx = (q % 2 == 0 ? tw / 4 : 3 * tw / 4), cy = (q < 2 ? th / 4 : 3 * th / 4)
                    let i = (cy * tw + cx) * 3
                    let expected = [colours[q].0, colours[q].1, colours[q].2]
                    for c in 0..<3 {
                        XCTAssertEqual(Double(out.pixels[i + c]), Double(expected[c]), accuracy: 12,
                                       "\(name) \(tw)x\(th) quadrant \(q) channel \(c)")
                    }
                }
                let gray = try Scaler(width: tw, height: th, format: .gray8).convert(frame)
                XCTAssertGreaterThan(gray.pixels[(th / 4) * tw + tw / 4], 240, "\(name): white quadrant in gray")
                XCTAssertLessThan(gray.pixels[(th / 4) * tw + 3 * tw / 4], 15, "\(name): black quadrant in gray")
            }
        }
    }

    /// Crop and letterbox record a transform that maps target pixels back onto the right source pixels.
    func testResizeModesAndTransforms() throws {
        let path = try TestMedia.directory().appendingPathComponent("modes.mp4")
        try TestMedia.clip(path, frames: 1, width: 320, height: 240)
        let frame = try XCTUnwrap(try VideoDecoder(path.path).nextFrame())

        // Letterbox 4:3 into a square: scaled to 160x120, padded 20 rows above and below.
        let boxed = try Scaler(width: 160, height: 160, mode: .letterbox, fill: 114).convert(frame)
        XCTAssertEqual(boxed.transform.offsetY, 20)
        XCTAssertEqual(boxed.transform.scaleX, 0.5, accuracy: 1e-9)
        XCTAssertEqual(boxed.pixels[(5 * 160 + 80) * 3], 114, "padding above")
        XCTAssertEqual(boxed.pixels[(155 * 160 + 80) * 3], 114, "padding below")
        let corner = boxed.transform.toSource(x: 0, y: 20)
        XCTAssertEqual(corner.x, 0, accuracy: 1e-9)
        XCTAssertEqual(corner.y, 0, accuracy: 1e-9)
        // The index code row (top 20 source rows) is in the picture right below the padding.
        XCTAssertNotEqual(boxed.pixels[(21 * 160 + 2) * 3], 114)

        // Crop: shorter side 240 → 112, width 149 (rounded), centred: 18 columns cut on the left.
        let cropped = try Scaler(width: 112, height: 112, mode: .crop).convert(frame)
        XCTAssertEqual(cropped.transform.offsetX, -18)
        let centre = cropped.transform.toSource(x: 56, y: 56)
        XCTAssertEqual(centre.x, 160, accuracy: 1.5)
        XCTAssertEqual(centre.y, 120, accuracy: 0.5)
        // The gradient's red channel grows with source x: target column 0 is source x ≈ 38.6, not 0.
        // (Row 20 is source row ≈ 43: below the index code, above the moving square.)
        let red0 = Double(cropped.pixels[(20 * 112) * 3])
        XCTAssertEqual(red0, 38.6 * 255 / 319, accuracy: 8)

        let stretched = try Scaler(width: 100, height: 50).convert(frame)
        let p = stretched.transform.toTarget(x: 320, y: 240)
        XCTAssertEqual(p.x, 100, accuracy: 1e-9)
        XCTAssertEqual(p.y, 50, accuracy: 1e-9)

        XCTAssertThrowsError(try Scaler(width: 0, height: 10))
    }

    func testPlanarFloatLayout() {
        let image = Image(width: 2, height: 1, format: .rgb24, pixels: [255, 0, 51, 0, 255, 102])
        let planar = image.planarFloat()
        for (got, expected) in zip(planar, [Float(1), 0, 0, 1, 0.2, 0.4]) { XCTAssertEqual(got, expected, accuracy: 1e-6) }
        XCTAssertEqual(planar.count, 6)
    }
}

final class SamplerTests: XCTestCase {
    /// Resampling by timestamp on a VFR sequence: at each output time the frame on screen is taken.
    func testSamplerPicksFrameOnScreen() {
        let times = [0.0, 0.1, 0.15, 0.4, 0.5, 0.9]
        var sampler = FrameSampler<Int>(fps: 10)
        var out: [(Int, Double)] = []
        for (i, t) in times.enumerated() { out += sampler.push(i, time: t).map { ($0.frame, $0.time) } }
        out += sampler.finish().map { ($0.frame, $0.time) }
        // Grid 0.0 … 0.9 (+ the last frame's extent, one 0.4 s interval): frame on screen at each time.
        XCTAssertEqual(out.map { $0.0 }, [0, 1, 2, 2, 3, 4, 4, 4, 4, 5, 5, 5, 5])
        XCTAssertEqual(out.map { $0.1 }[3], 0.3, accuracy: 1e-9)
    }

    func testWindowAndPassThrough() {
        var sampler = FrameSampler<Int>(fps: nil, start: 0.2, duration: 0.2)
        var kept: [Int] = []
        for i in 0..<10 { kept += sampler.push(i, time: Double(i) * 0.1).map { $0.frame } }
        XCTAssertEqual(kept, [2, 3])
        XCTAssertTrue(sampler.isFinished)
    }

    /// Real file, 25 fps: at 10 fps the frames i = floor(t·25) are picked; at 50 fps each is shown twice;
    /// a window [1 s, 2 s) starts at frame 25.
    func testFrameReaderOnRealFile() throws {
        let path = try TestMedia.directory().appendingPathComponent("sample.mp4")
        try TestMedia.clip(path, frames: 75)
        let scaler = try Scaler(width: 320, height: 240)
        func read(fps: Double?, start: Double = 0, duration: Double? = nil) throws -> [(Int?, Double)] {
            let reader = try FrameReader(decoder: try VideoDecoder(path.path), fps: fps, start: start, duration: duration)
            var out: [(Int?, Double)] = []
            while let (frame, time) = try reader.next() { out.append((TestPattern.index(in: try scaler.convert(frame)), time)) }
            return out
        }
        let ten = try read(fps: 10)
        XCTAssertEqual(ten.count, 30)
        XCTAssertEqual(ten.map { $0.0 }, (0..<30).map { Int((Double($0) / 10 * 25 + 1e-9).rounded(.down)) })
        let fifty = try read(fps: 50)
        XCTAssertEqual(fifty.count, 150)
        XCTAssertEqual(fifty.map { $0.0 }, (0..<150).map { $0 / 2 })
        let window = try read(fps: 5, start: 1, duration: 1)
        XCTAssertEqual(window.map { $0.0 }, [25, 30, 35, 40, 45])
        XCTAssertEqual(window.map { $0.1 }, [1.0, 1.2, 1.4, 1.6, 1.8].map { $0 }, "grid times")
        let all = try read(fps: nil, start: 2.5)
        XCTAssertEqual(all.compactMap { $0.0 }, Array(63..<75))
        XCTAssertThrowsError(try FrameReader(decoder: try VideoDecoder(path.path), fps: -1))
    }
}
