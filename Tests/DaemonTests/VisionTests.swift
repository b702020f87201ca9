import Foundation
import TestSupport
import Testing

#if canImport(Glibc)
import Glibc
#endif

/// Images through the real daemon and CLI: `brised --vision-model` (`--mmproj`) answers a Chat whose
/// user message carries a PNG, reuses its KV cache for the same image and not for another one of the
/// same size, refuses broken images with an `InvalidParameter` naming the chunk and keeps serving,
/// and gives the text `brise generate --image` gives in process.
extension Daemon {
    @Suite struct Vision {
        static let text = Fixtures.path("vision/tiny-mistral3-vision-F32.gguf")
        static let projector = Fixtures.path("vision/tiny-pixtral-mmproj-F16.gguf")

        static func image(_ name: String) throws -> Data {
            try Data(contentsOf: URL(fileURLWithPath: Fixtures.path("vision/images/\(name)")))
        }

        static func chat(_ image: Data, _ question: String = "Describe the image.", tokens: Int = 16) -> [String: Any] {
            [
                "messages": [["role": "user", "content": "", "chunks": [["type": "image", "data": image.base64EncodedString()], ["type": "text", "text": question]]]],
                "options": ["max_tokens": tokens, "temperature": 0],
            ]
        }

        static func usage(_ replies: [[String: Any]]) -> [String: Any]? {
            (replies.last?["parameters"] as? [String: Any])?["usage"] as? [String: Any]
        }

        @Test func answersAboutAnImageAndReusesItsCacheOnlyForTheSameImage() throws {
            let (daemon, socket) = try Daemon.start(model: Self.text, ["--context", "2048", "--parallel", "1", "--mmproj", Self.projector])
            let client = try VarlinkTestClient(path: socket)
            let model = try #require(try client.collect("io.brise.Inference.GetModel").first?["parameters"] as? [String: Any])
            #expect((model["vision"] as? String)?.hasSuffix("tiny-pixtral-mmproj-F16.gguf") == true, "\(model)")
            let status = try ChildProcess.run(ChildProcess.builtProduct("brise"), ["status", "--socket", socket])
            #expect(status.standardOutput.contains("vision "), "\(status.standardOutput)")
            let first = try client.collect("io.brise.Inference.Chat", Self.chat(try Self.image("64x48.png")))
            let usage = try #require(Self.usage(first), "\(first)")
            #expect(usage["generated_tokens"] as? Int == 16)
            // [BOS] [INST] 4×3 image tokens + 2 breaks + [IMG_END], the question, [/INST].
            #expect((usage["prompt_tokens"] as? Int ?? 0) > 15)
            #expect(usage["cached_tokens"] as? Int == 0)

            // The same image again: everything but the last prompt token comes from the cache, same text.
            let again = try client.collect("io.brise.Inference.Chat", Self.chat(try Self.image("64x48.png")))
            #expect(Daemon.text(again) == Daemon.text(first))
            let cached = Self.usage(again)?["cached_tokens"] as? Int ?? 0
            #expect(cached == (usage["prompt_tokens"] as? Int ?? 0) - 1, "\(String(describing: Self.usage(again)))")

            // Another image of the same grid (its placeholders are the same ids): the cache stops where
            // the image starts, after [BOS] [INST].
            let different = try client.collect("io.brise.Inference.Chat", Self.chat(try Self.image("16x16.png")))
            #expect((Self.usage(different)?["generated_tokens"] as? Int) == 16)
            #expect((Self.usage(different)?["cached_tokens"] as? Int ?? 99) <= 2, "\(String(describing: Self.usage(different)))")

            // The CLI in process gives the daemon's text for the same image and question.
            let cli = try ChildProcess.run(
                ChildProcess.builtProduct("brise"),
                [
                    "generate", "--model", Self.text, "--mmproj", Self.projector, "--image", Fixtures.path("vision/images/64x48.png"),
                    "--chat", "--prompt", "Describe the image.", "-n", "16", "--temperature", "0", "--context", "2048",
                ])
            #expect(cli.exitStatus == 0, "\(cli.standardError)")
            #expect(cli.standardOutput.trimmingCharacters(in: .newlines) == Daemon.text(first), "\(cli.standardOutput) vs \(Daemon.text(first))")

            // brise ask --image sends the file's bytes through the socket.
            let ask = try ChildProcess.run(
                ChildProcess.builtProduct("brise"),
                ["ask", "--socket", socket, "--image", Fixtures.path("vision/images/64x48.png"), "-n", "16", "--temperature", "0", "Describe the image."])
            #expect(ask.exitStatus == 0, "\(ask.standardError)")
            #expect(ask.standardOutput.contains(Daemon.text(first)), "\(ask.standardOutput) vs \(Daemon.text(first))")
            daemon.signal(SIGTERM)
            #expect(daemon.waitForExit(timeout: 20) == 0)
        }

        /// A PNG whose header claims `width × height` (valid signature and IHDR CRC, no image data).
        static func pngHeader(width: UInt32, height: UInt32) -> Data {
            var ihdr = Data("IHDR".utf8)
            for v in [width, height] { ihdr += withUnsafeBytes(of: v.bigEndian) { Data($0) } }
            ihdr += Data([8, 2, 0, 0, 0])
            var crc: UInt32 = 0xFFFF_FFFF
            for byte in ihdr {
                crc ^= UInt32(byte)
                for _ in 0..<8 { crc = (crc >> 1) ^ (0xEDB8_8320 & (0 &- (crc & 1))) }
            }
            crc ^= 0xFFFF_FFFF
            var png = Data([0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A])
            png += withUnsafeBytes(of: UInt32(13).bigEndian) { Data($0) }
            png += ihdr
            png += withUnsafeBytes(of: crc.bigEndian) { Data($0) }
            return png
        }

        @Test func brokenImagesAreClearErrorsAndTheDaemonKeepsServing() throws {
            let (daemon, socket) = try Daemon.start(model: Self.text, ["--context", "1024", "--mmproj", Self.projector])
            let client = try VarlinkTestClient(path: socket)
            let png = try Self.image("200x120.png")
            let jpeg = try Self.image("160x96.jpg")
            let bad: [(String, Data)] = [
                ("empty", Data()),
                ("wrong magic", Data("GIF89a not an image at all".utf8)),
                ("truncated PNG", png.prefix(png.count / 2)),
                ("truncated JPEG", jpeg.prefix(jpeg.count / 3)),
                ("PNG header only", png.prefix(40)),
                ("50000×50000 PNG", Self.pngHeader(width: 50_000, height: 50_000)),
                ("zero-width PNG", Self.pngHeader(width: 0, height: 10)),
                ("corrupted PNG", { var d = png; for i in stride(from: 60, to: d.count - 12, by: 7) { d[i] ^= 0x5A }; return d }()),
            ]
            for (name, bytes) in bad {
                let reply = try client.collect("io.brise.Inference.Chat", Self.chat(bytes)).last
                #expect(Daemon.errorName(reply) == "io.brise.Inference.InvalidParameter", "\(name): \(String(describing: reply))")
                let parameter = (reply?["parameters"] as? [String: Any])?["parameter"] as? String
                #expect(parameter == "messages[0].chunks[0]", "\(name): \(String(describing: reply))")
            }
            // Not base64.
            let notBase64: [String: Any] = [
                "messages": [["role": "user", "content": "", "chunks": [["type": "image", "data": "***"]]]],
            ]
            #expect(Daemon.errorName(try client.collect("io.brise.Inference.Chat", notBase64).last) == "io.brise.Inference.InvalidParameter")
            // An image in an assistant message.
            let assistant: [String: Any] = [
                "messages": [
                    ["role": "user", "content": "hi"],
                    ["role": "assistant", "content": "", "chunks": [["type": "image", "data": png.base64EncodedString()]]],
                    ["role": "user", "content": "and?"],
                ],
            ]
            #expect(Daemon.errorName(try client.collect("io.brise.Inference.Chat", assistant).last) == "io.brise.Inference.InvalidParameter")
            // Still serving, images included.
            let good = try client.collect("io.brise.Inference.Chat", Self.chat(jpeg, tokens: 4))
            #expect(Self.usage(good)?["generated_tokens"] as? Int == 4, "\(good)")
            daemon.signal(SIGTERM)
            #expect(daemon.waitForExit(timeout: 20) == 0)
        }

        @Test func withoutAVisionModelImagesAreRefusedAndAMismatchedProjectorStopsStartUp() throws {
            let (daemon, socket) = try Daemon.start(model: Self.text, ["--context", "512"])
            let reply = try VarlinkTestClient(path: socket).collect("io.brise.Inference.Chat", Self.chat(try Self.image("16x16.png"))).last
            #expect(Daemon.errorName(reply) == "io.brise.Inference.InvalidParameter")
            let reason = (reply?["parameters"] as? [String: Any])?["reason"] as? String
            #expect(reason?.contains("vision_model") == true, "\(String(describing: reply))")
            daemon.signal(SIGTERM)
            #expect(daemon.waitForExit(timeout: 20) == 0)

            // The projector makes 128-wide embeddings; tiny-llama is 256 wide: a clear start-up error.
            let directory = try DaemonProcess.makeDirectory()
            let wrong = try DaemonProcess.brised(
                ["--model", Daemon.tinyModel, "--socket", directory.appendingPathComponent("s").path, "--vision-model", Self.projector],
                environment: [:], directory: directory)
            #expect(wrong.waitForExit(timeout: 20) != 0)
            #expect(wrong.standardError.contains("vision_model") && wrong.standardError.contains("width"), "\(wrong.standardError)")

            // brise budget says what the projector adds and whether it fits, and names a mismatch.
            let brise = ChildProcess.builtProduct("brise")
            let fits = try ChildProcess.run(brise, ["budget", "--model", Self.text, "--mmproj", Self.projector, "--context", "512"])
            #expect(fits.exitStatus == 0 && fits.standardOutput.contains("vision ") && fits.standardOutput.contains("fits"), "\(fits.standardOutput)")
            let tight = try ChildProcess.run(
                brise, ["budget", "--model", Self.text, "--mmproj", Self.projector, "--context", "512", "--memory-budget", "40M"])
            #expect(tight.standardOutput.contains("does not fit"), "\(tight.standardOutput)\(tight.standardError)")
            let mismatch = try ChildProcess.run(brise, ["budget", "--model", Daemon.tinyModel, "--mmproj", Self.projector])
            #expect(mismatch.exitStatus != 0 && mismatch.standardError.contains("width"), "\(mismatch.standardError)")
        }

        /// The OpenAI shape over HTTP: an `image_url` part with a data: URL gives the Varlink answer; a
        /// remote URL is refused (the daemon fetches nothing); a photo-sized body fits the message limit
        /// a vision model raises to 24 MiB.
        @Test func openAIImagePartsOverHTTP() throws {
            let directory = try DaemonProcess.makeDirectory()
            let http = directory.appendingPathComponent("http.sock").path
            let (daemon, socket) = try Daemon.start(model: Self.text, ["--context", "1024", "--mmproj", Self.projector, "--http-socket", http])
            let image = try Self.image("200x120.png")
            let varlink = try VarlinkTestClient(path: socket).collect("io.brise.Inference.Chat", Self.chat(image, tokens: 8))
            func body(_ url: String) -> String {
                Daemon.json([
                    "messages": [["role": "user", "content": [["type": "image_url", "image_url": ["url": url]], ["type": "text", "text": "Describe the image."]]]],
                    "max_tokens": 8, "temperature": 0,
                ])
            }
            let file = directory.appendingPathComponent("body.json")
            try Data(body("data:image/png;base64," + image.base64EncodedString()).utf8).write(to: file)
            let ok = try HTTP.curl(http, ["-H", "Content-Type: application/json", "--data-binary", "@" + file.path, "http://brised/v1/chat/completions"])
            #expect(ok.status == 200, "\(ok)")
            let reply = try #require(try JSONSerialization.jsonObject(with: Data(ok.body.utf8)) as? [String: Any])
            let content = (((reply["choices"] as? [[String: Any]])?.first)?["message"] as? [String: Any])?["content"] as? String
            #expect(content == Daemon.text(varlink), "\(ok.body)")

            try Data(body("https://example.com/cat.png").utf8).write(to: file)
            let remote = try HTTP.curl(http, ["-H", "Content-Type: application/json", "--data-binary", "@" + file.path, "http://brised/v1/chat/completions"])
            #expect(remote.status == 400 && remote.body.contains("data:"), "\(remote)")

            // 6 MiB of image bytes (a broken PNG: an invalid_request naming the part, not a 413).
            var big = Data([0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A])
            big += Data(repeating: 0x41, count: 6 << 20)
            try Data(body("data:image/png;base64," + big.base64EncodedString()).utf8).write(to: file)
            let large = try HTTP.curl(http, ["-H", "Content-Type: application/json", "--data-binary", "@" + file.path, "http://brised/v1/chat/completions"])
            #expect(large.status == 400 && large.body.contains("messages[0].chunks[0]"), "\(large.status) \(large.body.prefix(300))")
            daemon.signal(SIGTERM)
            #expect(daemon.waitForExit(timeout: 20) == 0)
        }
    }
}
