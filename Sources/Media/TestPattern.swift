// A synthetic picture whose content identifies its frame index even after lossy compression: a row of
// 16 large black/white blocks encodes the index in binary, over a colour gradient with a moving square.
// Used by `actiond testclip`, the tests and the decode benchmark.

public enum TestPattern {
    /// Number of index bits drawn (frames 0 … 65535 are distinguishable).
    public static let bits = 16

    /// Frame `index` of the pattern at `width`×`height` (RGB24). Needs width ≥ 64 and height ≥ 32.
    public static func frame(_ index: Int, width: Int, height: Int) -> Image {
        var px = [UInt8](repeating: 0, count: width * height * 3)
        let block = blockSize(width: width)
        let squareSize = max(4, height / 5)
        let travel = max(1, width - squareSize)
        let sqX = (index * 3) % travel, sqY = height / 2
        for y in 0..<height {
            for x in 0..<width {
                let i = (y * width + x) * 3
                var (r, g, b) = (UInt8(x * 255 / max(1, width - 1)), UInt8(y * 255 / max(1, height - 1)), UInt8(96))
                if y < block {  // index code: bit k is block k, white for 1
                    let k = x / block
                    let on = k < bits && (index >> (bits - 1 - k)) & 1 == 1
                    (r, g, b) = on ? (255, 255, 255) : (0, 0, 0)
                } else if x >= sqX && x < sqX + squareSize && y >= sqY && y < min(height, sqY + squareSize) {
                    (r, g, b) = (255, 32, 32)
                }
                px[i] = r; px[i + 1] = g; px[i + 2] = b
            }
        }
        return Image(width: width, height: height, format: .rgb24, pixels: px)
    }

    /// Reads the frame index back from a decoded (possibly scaled, lossy) pattern frame of any size, or nil
    /// if the code row is not legible.
    public static func index(in image: Image) -> Int? {
        let block = blockSize(width: image.width)
        guard block >= 2, image.height > block else { return nil }
        var value = 0
        for k in 0..<bits {
            let cx = k * block + block / 2, cy = block / 2
            let i = (cy * image.width + cx) * image.channels
            let level = Int(image.pixels[i])
            guard level < 64 || level > 192 else { return nil }  // neither black nor white: not a pattern frame
            value = value << 1 | (level > 128 ? 1 : 0)
        }
        return value
    }

    static func blockSize(width: Int) -> Int { width / bits }
}
