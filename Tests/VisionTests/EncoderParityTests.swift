import Foundation
import GGUF
import Kernels
import Model
import ModelStore
import TestSupport
import Testing
import Vision

/// The Pixtral encoder and an image prompt against llama.cpp's libmtmd (0.3.36) on synthetic files:
/// `scripts/make-vision-fixtures.py` made a tiny pixtral mmproj (F16, and Q8_0 through llama.cpp's
/// quantizer), a matching mistral3 text model and images of many sizes, and recorded libmtmd's
/// decoded pixels, image grid, embeddings (flash attention on: the CPU's `auto`) and the greedy
/// continuation of `[INST]<image>Describe the image.[/INST]`.
@Suite struct EncoderParityTests {
    struct Case: CustomStringConvertible, Sendable {
        let projector: String
        let image: String
        var description: String { "\(projector) \(image)" }
    }

    static let projectors = ["F16", "Q8_0"]
    static let images = ["1x1", "16x16", "64x48", "200x120", "512x512", "2000x20", "20x1500", "1024x1024", "1600x1200", "160x96"]
    static let cases = projectors.flatMap { p in images.map { Case(projector: p, image: $0) } }

    static func fixture(_ projector: String) throws -> [String: Any] {
        let data = try Data(contentsOf: URL(fileURLWithPath: Fixtures.path("vision/tiny-pixtral-\(projector).json")))
        return try JSONSerialization.jsonObject(with: data) as! [String: Any]
    }

    static func sha256(_ bytes: UnsafeRawBufferPointer) -> String {
        var hash = SHA256()
        hash.update(bytes)
        return hash.hexDigest()
    }

    /// The kernel path that sums as the llama.cpp build that recorded `fixture` did (its `llamaCpp.isa`):
    /// our AVX2 paths follow its AVX2 build's order, the AVX-512 ones its AVX-512 build's, so on an
    /// AVX-512 machine a fixture recorded by an AVX2 build is held to the AVX2 path. The best path
    /// when the CPU cannot run that one.
    static func path(for fixture: [String: Any]) -> KernelPath {
        let isa = (fixture["llamaCpp"] as? [String: Any])?["isa"] as? String
        let wanted: KernelPath? =
            switch isa {
            case "avx2": .avx2
            case "avx512": .avx512vnni
            default: nil
            }
        if let wanted, wanted.isSupported { return wanted }
        if isa == "avx512", KernelPath.avx512.isSupported { return .avx512 }
        return .best
    }

    /// Everything for one case, set up once per test.
    struct Setup {
        let encoder: VisionEncoder
        let session: ModelSession
        let preprocessor: ImagePreprocessor
        let spec: [String: Any]
        let rgb: RGBImage

        init(_ c: Case) throws {
            let root = try EncoderParityTests.fixture(c.projector)
            let images = root["images"] as! [String: Any]
            spec = images[c.image] as! [String: Any]
            let projectorFile = try GGUFFile(path: Fixtures.path("vision/tiny-pixtral-mmproj-\(c.projector).gguf"))
            let vision = try VisionModel(file: projectorFile)
            let text = try LlamaModel(file: try GGUFFile(path: Fixtures.path("vision/tiny-mistral3-vision-F32.gguf")))
            try vision.check(feeds: text)
            let path = EncoderParityTests.path(for: root)
            let pool = WorkerPool(threadCount: 2)
            let multiplier = try MatrixMultiplier(path: path, pool: pool)
            let ops = try FloatOps(path: path)
            encoder = VisionEncoder(model: vision, multiplier: multiplier, ops: ops)
            session = try ModelSession(model: text, contextLength: 2048, multiplier: multiplier, ops: ops)
            let cfg = vision.configuration
            preprocessor = .pixtral(patchSize: cfg.patchSize, mergeSize: cfg.mergeSize, mean: cfg.imageMean, std: cfg.imageStandardDeviation)
            let bytes = try [UInt8](Data(contentsOf: URL(fileURLWithPath: Fixtures.path("vision/" + (spec["file"] as! String)))))
            rgb = try ImageDecoder.decode(bytes)
        }
    }

    @Test("the encoder's embeddings match libmtmd's (cosine ≥ 0.9999)", arguments: cases)
    func embeddings(_ c: Case) throws {
        let s = try Setup(c)
        let processed = s.preprocessor.preprocess(s.rgb)
        let grid = s.spec["grid"] as! [String: Any]
        #expect(processed.width == grid["resizedWidth"] as! Int && processed.height == grid["resizedHeight"] as! Int)
        let out = try processed.pixels.withUnsafeBufferPointer {
            try s.encoder.encode(width: processed.width, height: processed.height, pixels: $0)
        }
        #expect(out.grid.tokenCount == grid["nTokensExpected"] as! Int)
        let expected = (((s.spec["runs"] as! [String: Any])["flashOn"] as! [String: Any])["embeddings"]) as! [String: Any]
        let width = expected["nEmbd"] as! Int
        #expect(out.width == width)
        var rows: [(Int, [Float])] = []
        if let file = expected["file"] as? String {
            let data = try Data(contentsOf: URL(fileURLWithPath: Fixtures.path("vision/" + file)))
            let all = data.withUnsafeBytes { Array($0.bindMemory(to: Float.self)) }
            #expect(all.count == out.values.count)
            rows = (0..<(all.count / width)).map { ($0, Array(all[($0 * width)..<(($0 + 1) * width)])) }
        } else {
            let n = expected["nTokens"] as! Int
            rows = [(0, (expected["firstRow"] as! [Double]).map(Float.init)), (n - 1, (expected["lastRow"] as! [Double]).map(Float.init))]
            let norms = expected["rowNorms"] as! [Double]
            for (r, norm) in norms.enumerated() {
                let ours = out.values[(r * width)..<((r + 1) * width)].reduce(0.0) { $0 + Double($1) * Double($1) }.squareRoot()
                #expect(abs(ours - norm) <= 5e-3 * max(1, norm), "row \(r) norm \(ours) vs \(norm)")
            }
        }
        var dot = 0.0, a = 0.0, b = 0.0, worst = 1.0, maxDiff: Float = 0
        for (r, theirs) in rows {
            let ours = Array(out.values[(r * width)..<((r + 1) * width)])
            var rd = 0.0, ra = 0.0, rb = 0.0
            for (x, y) in zip(ours, theirs) {
                rd += Double(x) * Double(y)
                ra += Double(x) * Double(x)
                rb += Double(y) * Double(y)
                maxDiff = max(maxDiff, abs(x - y))
            }
            dot += rd
            a += ra
            b += rb
            worst = min(worst, rd / (ra.squareRoot() * rb.squareRoot()))
        }
        let cosine = dot / (a.squareRoot() * b.squareRoot())
        print("vision parity \(c): cosine \(cosine), worst row \(worst), max |Δ| \(maxDiff) over \(rows.count) rows")
        #expect(cosine >= 0.9999)
        #expect(worst >= 0.9999)
    }

    @Test("an image prompt's first logits and 32 greedy tokens match llama.cpp's", arguments: cases)
    func continuation(_ c: Case) throws {
        let s = try Setup(c)
        let processed = s.preprocessor.preprocess(s.rgb)
        let embeddings = try processed.pixels.withUnsafeBufferPointer {
            try s.encoder.encode(width: processed.width, height: processed.height, pixels: $0)
        }
        let layout = s.spec["layout"] as! [Int]
        guard let first = layout.firstIndex(of: -1) else {
            Issue.record("no image positions in the layout")
            return
        }
        #expect(layout.filter { $0 == -1 }.count == embeddings.grid.tokenCount)
        let tokens = layout.map { Int32($0 < 0 ? 0 : $0) }
        let placed = ModelSession.PlacedImage(position: first, embeddings: embeddings)
        var logits = try s.session.evaluate(tokens, images: [placed])
        let run = ((s.spec["runs"] as! [String: Any])["flashOn"] as! [String: Any])["sequential"] as! [String: Any]
        let expectedFirst = Data(base64Encoded: run["firstLogits"] as! String)!.withUnsafeBytes { Array($0.bindMemory(to: Float.self)) }
        let maxDiff = zip(logits, expectedFirst).map { abs($0 - $1) }.max() ?? 0
        let greedy = run["greedy32"] as! [Int]
        var ours: [Int] = []
        for _ in 0..<greedy.count {
            let next = logits.indices.max { logits[$0] < logits[$1] }!
            ours.append(next)
            logits = try s.session.evaluate([Int32(next)])
        }
        print("vision continuation \(c): first-logit max |Δ| \(maxDiff), greedy \(ours == greedy ? "identical" : "differs")")
        #expect(ours == greedy)
    }

    @Test("decoded pixels match stb_image's (PNG exactly)", arguments: images)
    func decoded(_ image: String) throws {
        let spec = (try Self.fixture("F16")["images"] as! [String: Any])[image] as! [String: Any]
        let file = spec["file"] as! String
        let bytes = try [UInt8](Data(contentsOf: URL(fileURLWithPath: Fixtures.path("vision/" + file))))
        let rgb = try ImageDecoder.decode(bytes)
        let decoded = spec["decoded"] as! [String: Any]
        #expect(rgb.width == decoded["nx"] as! Int && rgb.height == decoded["ny"] as! Int)
        let digest = rgb.pixels.withUnsafeBytes { Self.sha256($0) }
        if file.hasSuffix(".png") {
            #expect(digest == decoded["rgbSha256"] as! String)
        }
    }
}

extension EncoderParityTests {
    /// The text side alone: llama.cpp's own embeddings (its files), placed at the image positions of
    /// the prompt, give llama.cpp's first logits bit for bit and its 32 greedy tokens.
    @Test("llama.cpp's embeddings through our text model: its logits bit for bit", arguments: cases)
    func textSide(_ c: Case) throws {
        let s = try Setup(c)
        let run = (s.spec["runs"] as! [String: Any])["flashOn"] as! [String: Any]
        let expected = run["embeddings"] as! [String: Any]
        guard let file = expected["file"] as? String else { return }  // large images keep only a digest
        let data = try Data(contentsOf: URL(fileURLWithPath: Fixtures.path("vision/" + file)))
        let values = data.withUnsafeBytes { Array($0.bindMemory(to: Float.self)) }
        let grid = s.spec["grid"] as! [String: Any]
        let embeddings = ImageEmbeddings(
            grid: ImageTokenGrid(columns: grid["mergedX"] as! Int, rows: grid["mergedY"] as! Int), width: expected["nEmbd"] as! Int,
            values: values)
        let layout = s.spec["layout"] as! [Int]
        let first = try #require(layout.firstIndex(of: -1))
        var logits = try s.session.evaluate(
            layout.map { Int32($0 < 0 ? 0 : $0) }, images: [ModelSession.PlacedImage(position: first, embeddings: embeddings)])
        let sequential = run["sequential"] as! [String: Any]
        let expectedFirst = Data(base64Encoded: sequential["firstLogits"] as! String)!.withUnsafeBytes { Array($0.bindMemory(to: Float.self)) }
        let maxDiff = zip(logits, expectedFirst).map { abs($0 - $1) }.max() ?? 0
        #expect(maxDiff == 0, "first logits differ by \(maxDiff)")
        let greedy = sequential["greedy32"] as! [Int]
        var ours: [Int] = []
        for _ in 0..<greedy.count {
            let next = logits.indices.max { logits[$0] < logits[$1] }!
            ours.append(next)
            logits = try s.session.evaluate([Int32(next)])
        }
        #expect(ours == greedy)
    }
}
