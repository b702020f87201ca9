import Foundation
import GGUF
import Kernels
import Testing
import TestSupport

@testable import Model

/// The routing arithmetic of a mixture of experts, and what a malformed expert file gets.
@Suite struct MixtureOfExpertsTests {
    static func route(_ logits: [Float], used: Int) throws -> ExpertRoute {
        let ops = try FloatOps(path: try KernelPath.select(environment: ProcessInfo.processInfo.environment))
        var row = logits
        return row.withUnsafeMutableBufferPointer { ExpertRoute(logits: $0.baseAddress!, count: logits.count, used: used, ops: ops) }
    }

    /// The largest probabilities, the first two swapped as ggml's CPU top-k leaves them, weights
    /// renormalized over the chosen ones.
    @Test func routesToTheLargestInLlamaCppsOrder() throws {
        let route = try Self.route([0.5, 3, -1, 2, 2.5, 0, 1, -2], used: 3)
        #expect(route.experts == [4, 1, 3])
        let probabilities = [3, 2.5, 2].map { exp(Double($0)) }
        let sum = probabilities.reduce(0, +)
        #expect(abs(Double(route.weights[0]) - probabilities[1] / sum) < 1e-6)
        #expect(abs(Double(route.weights[1]) - probabilities[0] / sum) < 1e-6)
        #expect(abs(Double(route.weights.reduce(0, +)) - 1) < 1e-6)

        let one = try Self.route([0, 1, 5, 2], used: 1)
        #expect(one.experts == [2] && one.weights == [1])
        // Ties go to the lower index.
        let tie = try Self.route([1, 1, 1, 1], used: 2)
        #expect(tie.experts == [1, 0] && tie.weights == [0.5, 0.5])
    }

    /// Every expert: the weights are the softmax itself (its sum is 1, give or take rounding).
    @Test func allExpertsKeepTheSoftmax() throws {
        let route = try Self.route([0.25, -0.5, 1.5, 0], used: 4)
        #expect(Set(route.experts) == [0, 1, 2, 3])
        #expect(abs(route.weights.reduce(0, +) - 1) < 1e-6)
    }

    static func load(_ shape: TinyGGUF.Shape, architecture: String = "llama", expertPerTensor: Bool = false) throws -> LlamaModel {
        let writer = try TinyGGUF.model(architecture: architecture, shape: shape, expertPerTensor: expertPerTensor)
        return try LlamaModel(file: try TinyGGUF.parse(try writer.serialized()))
    }

    static func message(_ body: () throws -> Any) -> String {
        do {
            _ = try body()
            return "loaded"
        } catch {
            return "\(error)"
        }
    }

    /// expert_used_count out of range, experts on an architecture without them, stacked tensors that
    /// disagree with expert_count, and the old one-tensor-per-expert layout are clear errors.
    @Test func badExpertFilesAreClearErrors() throws {
        let good = TinyGGUF.Shape(experts: 4, expertsUsed: 2)
        #expect(Self.message { try Self.load(good) } == "loaded")
        var tooMany = good
        tooMany.expertsUsed = 5
        #expect(Self.message { try Self.load(tooMany) }.contains("expert_used_count"))
        var none = good
        none.expertsUsed = 0
        #expect(Self.message { try Self.load(none) }.contains("expert_used_count"))
        var huge = try TinyGGUF.model(shape: good)
        huge.add("llama.expert_count", .uint32(1 << 20))
        let hugeFile = try TinyGGUF.parse(try huge.serialized())
        #expect(Self.message { try ModelConfiguration(metadata: hugeFile.metadata) }.contains("expert_count"))
        #expect(Self.message { try Self.load(good, architecture: "qwen2") }.contains("with experts"))
        #expect(Self.message { try Self.load(good, expertPerTensor: true) }.contains("convert the model again"))

        // Stacked tensors holding 4 experts where the metadata says 3.
        var writer = try TinyGGUF.model(shape: good)
        writer.add("llama.expert_count", .uint32(3))
        let file = try TinyGGUF.parse(try writer.serialized())
        #expect(Self.message { try LlamaModel(file: file) }.contains("ffn_gate_inp"))
    }

    /// Synthetic F32 mixtures with 1, 2, 3 and all of 4 experts per token: a prompt in one batch gives
    /// the bits of the same prompt fed one token at a time, and the logits depend on the routing (the
    /// same model with another expert count answers differently).
    @Test(arguments: [1, 2, 3, 4])
    func prefillEqualsDecodeForEveryExpertCount(used: Int) throws {
        let shape = TinyGGUF.Shape(vocabulary: 96, experts: 4, expertsUsed: used)
        let path = try KernelPath.select(environment: ProcessInfo.processInfo.environment)
        func session(_ shape: TinyGGUF.Shape) throws -> ModelSession {
            try ModelSession(
                model: try Self.load(shape), contextLength: 64,
                multiplier: try MatrixMultiplier(path: path, pool: WorkerPool(threadCount: 2)), ops: try FloatOps(path: path))
        }
        let tokens: [Int32] = [1, 5, 17, 33, 2, 90, 64, 7, 12, 48]
        let batched = try session(shape).evaluate(tokens, allLogits: true)
        let single = try session(shape)
        var oneByOne: [Float] = []
        for token in tokens { oneByOne += try single.evaluate([token]) }
        #expect(batched.map(\.bitPattern) == oneByOne.map(\.bitPattern))
        var other = shape
        other.expertsUsed = used == 1 ? 2 : 1
        let otherLogits = try session(other).evaluate(tokens, allLogits: true)
        #expect(otherLogits != batched, "the expert count changes the answer")
    }
}
