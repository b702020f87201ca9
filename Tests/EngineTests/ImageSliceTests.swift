import Foundation
import Testing

import Engine
import TestSupport

/// A prompt image's encoder shares the engine with running streams: while another sequence decodes,
/// the image is encoded a slice of layers per step, and both answers are the ones each gets alone.
@Suite struct ImageSliceTests {
    static let text = Fixtures.path("vision/tiny-mistral3-vision-F32.gguf")
    static let projector = Fixtures.path("vision/tiny-pixtral-mmproj-F16.gguf")
    static let image = Fixtures.path("vision/images/1024x1024.png")

    /// `[BOS] image tokens, some text` with the image placed over its placeholders.
    static func imageRequest(_ vision: VisionProjector) throws -> GenerationRequest {
        let prepared = try vision.prepare(Array(try Data(contentsOf: URL(fileURLWithPath: image))))
        let prompt: [Int32] = [1] + vision.placeholders(prepared.grid) + [20, 30, 40, 50]
        var request = InferenceEngineTests.request(prompt, maxTokens: 12)
        request.images = [prepared.placed(at: 1)]
        return request
    }

    static func withEngine<T: Sendable>(
        imageSlice: Duration, _ body: @Sendable (InferenceEngine, VisionProjector) async throws -> T
    ) async throws -> T {
        let loaded = try LoadedModel(modelPath: text, contextLength: 2048, threads: 2, slots: 2, environment: [:])
        let vision = try VisionProjector(path: projector, target: loaded)
        let engine = InferenceEngine(loaded: loaded, vision: vision, configuration: .init(imageSlice: imageSlice))
        return try await withThrowingTaskGroup(of: T?.self) { group in
            group.addTask {
                try await engine.run()
                return nil
            }
            defer { group.cancelAll() }
            return try await body(engine, vision)
        }
    }

    @Test func anImageEncodesInSlicesBetweenAnotherStreamsSteps() async throws {
        let other = InferenceEngineTests.request(InferenceEngineTests.prompts[1], maxTokens: 200)
        // Alone: the image encodes in one step, and the text request runs by itself.
        let (aloneImage, aloneText, aloneSlices) = try await Self.withEngine(imageSlice: .zero) { engine, vision in
            let image = try await InferenceEngineTests.collect(engine.submit(try Self.imageRequest(vision)))
            let text = try await InferenceEngineTests.collect(engine.submit(other))
            return (image.0, text.0, engine.status.imageSlices)
        }
        #expect(aloneSlices == 0)
        #expect(!aloneImage.isEmpty && !aloneText.isEmpty)
        // Together: the text stream is decoding when the image request arrives; with a zero slice the
        // encoder runs one layer per step, the stream's tokens in between.
        let (image, text, slices) = try await Self.withEngine(imageSlice: .zero) { engine, vision in
            let request = try Self.imageRequest(vision)  // decoded and resized before the stream starts
            let stream = engine.submit(other)
            var iterator = stream.makeAsyncIterator()
            var text = ""
            // Wait for its first output, so it is decoding.
            while let event = try await iterator.next() {
                if case .output(.text(let piece)) = event {
                    text += piece
                    break
                }
            }
            async let image = InferenceEngineTests.collect(engine.submit(request))
            while let event = try await iterator.next() {
                if case .output(.text(let piece)) = event { text += piece }
            }
            return (try await image.0, text, engine.status.imageSlices)
        }
        #expect(slices >= 1, "the encoder ran in slices (\(slices))")
        #expect(image == aloneImage)
        #expect(text == aloneText)
    }
}
