public import ArgumentParser
import Engine
import Kernels
import Model
import Foundation

/// `brise bench vision --model TEXT --mmproj FILE --image FILE`: how long one image takes to encode
/// (the vision encoder and projector; decoding and resizing are timed apart), and the memory the
/// encoder adds.
public struct BenchVision: ParsableCommand {
    public static let configuration = CommandConfiguration(
        commandName: "vision",
        abstract: "Measure the image encoder on one image (build with -c release).",
        discussion:
            "scripts/bench-vision-vs-llamacpp.py runs this beside llama.cpp's libmtmd on the same files, alternating, and prints the ratio."
    )

    @Option(help: "The text model the projector feeds (a file, or a name in the models directory).")
    var model: String

    @Option(name: [.customLong("mmproj"), .customLong("vision-model")], help: "The vision projector (llama.cpp's mmproj GGUF).")
    var mmproj: String

    @Option(help: "A PNG or JPEG file.")
    var image: String

    @Option(help: "Timed encodes after one untimed one (the median and the best are reported).")
    var runs = 3

    @Option(help: "Worker threads (default: what the affinity mask and the cgroup CPU quota allow).")
    var threads: Int?

    @Flag(help: "Print one JSON object.")
    var json = false

    public init() {}

    public func run() throws {
        let environment = ProcessInfo.processInfo.environment
        let loaded = try LoadedModel(
            modelPath: try ModelArgument.path(model, command: "bench vision"), contextLength: 64, threads: threads, slots: 1,
            environment: environment)
        let before = peakResidentBytes()
        let vision = try VisionProjector(path: try ModelArgument.path(mmproj, command: "bench vision"), target: loaded)
        let bytes = [UInt8](try Data(contentsOf: URL(fileURLWithPath: image)))
        let prepareStart = DispatchTime.now().uptimeNanoseconds
        let prepared = try vision.prepare(bytes)
        let prepareSeconds = Double(DispatchTime.now().uptimeNanoseconds - prepareStart) / 1e9
        let placed = prepared.placed(at: 0)
        var times: [Double] = []
        for run in 0...max(1, runs) {
            let start = DispatchTime.now().uptimeNanoseconds
            _ = try vision.encodeForBenchmark(placed)
            let seconds = Double(DispatchTime.now().uptimeNanoseconds - start) / 1e9
            if run > 0 { times.append(seconds) }
        }
        times.sort()
        let median = times[times.count / 2]
        let best = times[0]
        let added = max(0, peakResidentBytes() - before)
        if json {
            let object: [String: Any] = [
                "width": prepared.width, "height": prepared.height, "tokens": prepared.grid.tokenCount,
                "prepareSeconds": prepareSeconds, "encodeSeconds": times, "medianSeconds": median, "bestSeconds": best,
                "weightBytes": vision.weightBytes, "workingBytes": vision.workingBytes, "peakResidentAddedBytes": added,
                "threads": loaded.threads, "kernels": loaded.path.rawValue,
            ]
            let data = try JSONSerialization.data(withJSONObject: object, options: [.sortedKeys])
            print(String(decoding: data, as: UTF8.self))
            return
        }
        func ms(_ s: Double) -> String { String(format: "%.1f ms", s * 1000) }
        print("image            \(prepared.width)×\(prepared.height) pixels, \(prepared.grid.tokenCount) embeddings")
        print("decode + resize  \(ms(prepareSeconds))")
        print("encode           median \(ms(median)), best \(ms(best)) over \(times.count) runs (\(loaded.threads) threads, \(loaded.path.rawValue))")
        print("projector        \(formatBytes(vision.weightBytes)) mapped; encode buffers up to \(formatBytes(vision.workingBytes)) (largest image)")
        print("peak RSS added   \(formatBytes(added)) (weights read and this image's buffers)")
    }
}
