// What each classifier kind feeds its graphs for one clip, built only from the model card (no graph needed):
// the classify stage batches these tensors and runs them; `actiond dataset` writes them as .npy. One code path
// for both is what makes training inputs identical to serving inputs.
import Flow
import Foundation
import Media
import Pipeline
import Tensor

/// Graph inputs of one network run, WITHOUT the batch dimension, by the graph input name.
public struct NetworkFeed: Sendable {
    public var role: GraphRole
    public var input: String
    public var tensor: Tensor
}

public enum ClipInputs {
    /// The input name a card gives for a role, or the conventional default when it names none (the graph's
    /// only input is used at serving time; `dataset`, which has no graph, writes these names).
    public static func inputName(_ card: ModelCard, role: GraphRole) -> String {
        switch role {
        case .main, .encoder: return card.input.name ?? "input"
        case .flow: return card.flow?.input ?? "flow"
        case .head: return card.head?.input ?? "features"
        }
    }

    /// The whole clip as one tensor in the card's layout: 3d and one-graph cnn-rnn.
    public static func clip(_ items: [Timestamped<FrameRecord>], card: ModelCard,
                            region: PixelRect? = nil) -> Tensor {
        Preprocess.clipTensor(items.map { Preprocess.frame($0.value.image, card: card, region: region) },
                              layout: card.input.layout)
    }

    /// One encoded flow field: planes [2, H, W] at the card's size (resized like an image, displacements in
    /// flow-stage pixels), each value clipped to ±bound and divided by bound (−1...1).
    public static func encodedFlow(_ field: FlowField, card: ModelCard, region: PixelRect? = nil) -> [Float] {
        let n = field.width * field.height
        var planar = [Float](repeating: 0, count: 2 * n)
        for i in 0..<n {
            planar[i] = field.values[2 * i]
            planar[n + i] = field.values[2 * i + 1]
        }
        let resized = Preprocess.resize(Planes(channels: 2, width: field.width, height: field.height,
                                               values: planar),
                                        region: region, width: card.input.size.width,
                                        height: card.input.size.height, mode: card.input.resize)
        let encoding = FlowEncoding(bound: Float(card.flow?.bound ?? 20))
        return resized.values.map(encoding.scaled)
    }

    /// TSN segments of a clip: `count` equal runs of items (the last takes the remainder), each as the index
    /// range into the clip.
    public static func segments(length: Int, count: Int) -> [Range<Int>] {
        let count = max(1, min(count, length))
        return (0..<count).map { s in (s * length / count)..<((s + 1) * length / count) }
    }

    /// The items whose flow fields are stacked for a segment: `stack` consecutive items centred on the
    /// segment's centre item (fields x1, y1, x2, y2, …), indices clamped to the clip (edge fields repeat).
    public static func flowIndices(segment: Range<Int>, stack: Int, clipLength: Int) -> [Int] {
        let centre = segment.lowerBound + (segment.count - 1) / 2
        let first = centre - stack / 2 + 1
        return (0..<stack).map { min(max(first + $0, 0), clipLength - 1) }
    }

    /// Two-stream inputs per TSN segment: the RGB net gets the segment's centre frame [3, H, W], the flow net
    /// the stack of encoded fields around it [2·stack, H, W].
    public static func twoStream(_ items: [Timestamped<FrameRecord>], card: ModelCard, segments count: Int,
                                 region: PixelRect? = nil) throws(StagesError) -> [(rgb: Tensor, flow: Tensor)] {
        guard let flow = card.flow else { throw StagesError.card(card.path, "a two-stream card needs `flow`") }
        let h = card.input.size.height, w = card.input.size.width
        var result: [(Tensor, Tensor)] = []
        for segment in segments(length: items.count, count: count) {
            let centre = segment.lowerBound + (segment.count - 1) / 2
            let rgb = Preprocess.clipTensor([Preprocess.frame(items[centre].value.image, card: card,
                                                              region: region)], layout: .nchw)
            var stacked: [Float] = []
            stacked.reserveCapacity(2 * flow.stack * h * w)
            for index in flowIndices(segment: segment, stack: flow.stack, clipLength: items.count) {
                guard let field = items[index].value.flow else {
                    throw StagesError.missingFlow(time: items[index].time)
                }
                // The crop, given in image pixels, in the flow field's pixels (the flow size may differ).
                let sx = Double(field.width) / Double(items[index].value.image.width)
                let sy = Double(field.height) / Double(items[index].value.image.height)
                let flowRegion = region.map { PixelRect(x: $0.x * sx, y: $0.y * sy, width: $0.width * sx,
                                                        height: $0.height * sy) }
                stacked += encodedFlow(field, card: card, region: flowRegion)
            }
            result.append((rgb, Tensor(shape: [2 * flow.stack, h, w], floats: stacked)))
        }
        return result
    }

    /// Every network input of one clip in the order the classifier feeds them (dataset samples: one file
    /// each). For two-stream, TSN segments are `segments`; the RGB/flow tensors of segment 0 are used when 1.
    public static func feeds(_ items: [Timestamped<FrameRecord>], card: ModelCard, segments: Int = 1,
                             region: PixelRect? = nil) throws(StagesError) -> [NetworkFeed] {
        switch card.kind {
        case .threeD:
            return [NetworkFeed(role: .main, input: inputName(card, role: .main),
                                tensor: clip(items, card: card, region: region))]
        case .cnnRNN:
            if card.encoder != nil {
                // The encoder sees one frame at a time; the sample holds them all, [T, 3, H, W].
                let frames = items.map { Preprocess.frame($0.value.image, card: card, region: region) }
                return [NetworkFeed(role: .encoder, input: inputName(card, role: .encoder),
                                    tensor: Preprocess.clipTensor(frames, layout: .ntchw))]
            }
            return [NetworkFeed(role: .main, input: inputName(card, role: .main),
                                tensor: clip(items, card: card, region: region))]
        case .twoStream:
            let pairs = try twoStream(items, card: card, segments: segments, region: region)
            guard pairs.count == 1 else {
                throw StagesError.card(card.path, "dataset samples take one TSN segment per window")
            }
            return [NetworkFeed(role: .main, input: inputName(card, role: .main), tensor: pairs[0].rgb),
                    NetworkFeed(role: .flow, input: inputName(card, role: .flow), tensor: pairs[0].flow)]
        default:
            throw StagesError.card(card.path, "kind `\(card.kind.rawValue)` is not an action classifier")
        }
    }
}
