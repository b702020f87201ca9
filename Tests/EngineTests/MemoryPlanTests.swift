@testable import Engine
import Foundation
import GGUF
import Model
import Testing
import TestSupport

@Suite struct MemoryPlanTests {
    // A Ministral 3 3B-shaped Q4_K_M: 2.0 GiB of weights, 104 KiB of F16 KV per token.
    static let ministral = MemoryPlan.Request(
        weightBytes: 2_147_000_000, kvBytesPerToken: 106_496, trainingContext: 262_144, requestedContext: nil,
        scratchBytes: 84_000_000)

    // Mixtral 8x7B Q4_K_M: 26.4 GB of weights, 24.9 GB of them experts (each token reads 2 of 8 per
    // layer: 3 × 14336 × 4096 weights at ~4.6 bits, twice), 128 KiB of F16 KV per token.
    static let mixtral = MemoryPlan.Request(
        weightBytes: 26_440_000_000, kvBytesPerToken: 131_072, trainingContext: 32_768, requestedContext: 4096,
        scratchBytes: 300_000_000, requestedSlots: 1, expertBytes: 24_900_000_000, expertWorkingSetBytes: 194_000_000)

    /// A mixture of experts that fits whole plans every expert resident; on a box that cannot hold
    /// them it still runs (24 GiB here), counting only one step's experts, and says so; below even
    /// that it is refused with the least it needs.
    @Test func expertsArePagedWhenTheyDoNotFit() throws {
        let roomy = try MemoryPlan.make(Self.mixtral, budget: 32 << 30, budgetSource: "test")
        #expect(!roomy.pagedExperts && roomy.totalBytes == roomy.fullSpeedBytes && roomy.totalBytes > 26_000_000_000)
        #expect(roomy.minimumBytes < 3 << 30)
        #expect("\(roomy)".contains("experts 23.19 GiB"))

        let box = try MemoryPlan.make(Self.mixtral, budget: 24 << 30, budgetSource: "test")
        #expect(box.pagedExperts && box.contextLength == 4096)
        #expect(box.totalBytes <= 24 << 30 && box.totalBytes == box.minimumBytes)
        #expect(box.totalBytes == 26_440_000_000 - 24_900_000_000 + 194_000_000 + box.kvCacheBytes + 300_000_000 + MemoryPlan.defaultOverhead)
        #expect(box.fullSpeedBytes > 24 << 30)
        #expect("\(box)".contains("paged from the file"))

        #expect(throws: MemoryPlanError.self) { try MemoryPlan.make(Self.mixtral, budget: 1 << 30, budgetSource: "test") }
        do {
            _ = try MemoryPlan.make(Self.mixtral, budget: 1 << 30, budgetSource: "test")
        } catch let error as MemoryPlanError {
            #expect(error.needed == box.minimumBytes, "the refusal names the least the model runs in")
        }
        // A dense model is never paged.
        var dense = Self.mixtral
        dense.expertBytes = 0
        dense.expertWorkingSetBytes = 0
        #expect(throws: MemoryPlanError.self) { try MemoryPlan.make(dense, budget: 24 << 30, budgetSource: "test") }
    }

    /// The ranges lock_weights pins with paged experts: the data without the expert tensors.
    @Test func rangesWithoutHoles() {
        #expect(LoadedModel.ranges(0..<100, excluding: []) == [0..<100])
        #expect(LoadedModel.ranges(0..<100, excluding: [40..<60, 10..<20]) == [0..<10, 20..<40, 60..<100])
        #expect(LoadedModel.ranges(10..<100, excluding: [0..<20, 90..<120]) == [20..<90])
        #expect(LoadedModel.ranges(0..<100, excluding: [20..<30, 30..<40]) == [0..<20, 40..<100])
        #expect(LoadedModel.ranges(0..<100, excluding: [0..<100]).isEmpty)
    }

    /// The tiny Mixtral fixture, planned for real: its experts are counted from the file, and a
    /// budget between its least and its full-speed plan pages them.
    @Test func tinyMixtralPlansFromTheFile() throws {
        let file = try GGUFFile(path: Fixtures.path("models/tiny-mixtral-Q8_0.gguf"))
        let model = try LlamaModel(file: file)
        #expect(model.expertByteCount == 2 * 8 * 3 * 256 * 272)  // Q8_0: 272 bytes per 256 weights
        #expect(model.expertWorkingSetBytes == 2 * 3 * 256 * 272)
        let roomy = try LoadedModel.plan(model: model, file: file, contextLength: 256, memoryBudget: 1 << 30)
        #expect(!roomy.pagedExperts && roomy.expertBytes == model.expertByteCount)
        let between = (roomy.minimumBytes + roomy.fullSpeedBytes) / 2
        let paged = try LoadedModel.plan(model: model, file: file, contextLength: 256, memoryBudget: between)
        #expect(paged.pagedExperts && paged.totalBytes <= between)
        #expect(model.expertFileRanges.reduce(0) { $0 + $1.count } == model.expertByteCount)
    }

    @Test func choosesTheLargestContextThatFits() throws {
        let roomy = try MemoryPlan.make(Self.ministral, budget: 4 << 30, budgetSource: "test")
        #expect(roomy.contextLength == 4096)  // the default cap
        #expect(roomy.totalBytes <= 4 << 30)
        let tight = try MemoryPlan.make(Self.ministral, budget: 2_400_000_000, budgetSource: "test")
        #expect(tight.contextLength % 256 == 0 && tight.contextLength < 4096 && tight.contextLength >= 256)
        #expect(tight.totalBytes <= 2_400_000_000)
        // The next step up would not have fitted.
        #expect(tight.totalBytes + 256 * 106_496 > 2_400_000_000)
    }

    /// Slots: by default as many as the budget holds at the context one slot gets (at most 4); asked
    /// for, each gets the largest context that fits them all; too many for the budget is an error
    /// naming the most that fit.
    @Test func slotsFitTheBudget() throws {
        let perSlot = 4096 * 106_496
        let fixed = 2_147_000_000 + 84_000_000 + MemoryPlan.defaultOverhead
        let roomy = try MemoryPlan.make(Self.ministral, budget: 4 << 30, budgetSource: "test")
        #expect(roomy.slots == 4 && roomy.contextLength == 4096 && roomy.kvCacheBytes == 4 * perSlot)
        #expect(roomy.totalBytes <= 4 << 30)
        // Room for one 4096-token cache and a bit: one slot.
        let single = try MemoryPlan.make(Self.ministral, budget: fixed + perSlot + 1000, budgetSource: "test")
        #expect(single.slots == 1 && single.contextLength == 4096)
        // Three asked for: the context shrinks until all three fit.
        var three = Self.ministral
        three.requestedSlots = 3
        let shared = try MemoryPlan.make(three, budget: fixed + perSlot + 1000, budgetSource: "test")
        #expect(shared.slots == 3 && shared.contextLength < 4096 && shared.contextLength % 256 == 0)
        #expect(shared.totalBytes <= fixed + perSlot + 1000)
        // Eight slots of 4096 in 4 GiB do not fit: the error names the most that do.
        var eight = Self.ministral
        eight.requestedSlots = 8
        eight.requestedContext = 4096
        do {
            _ = try MemoryPlan.make(eight, budget: 4 << 30, budgetSource: "test")
            Issue.record("planned 8 slots of 4096 tokens into 4 GiB")
        } catch let error as MemoryPlanError {
            #expect(error.description.contains("the largest --parallel that fits 4096 positions each is 4"), "\(error)")
        }
        var none = Self.ministral
        none.requestedSlots = 0
        #expect(throws: MemoryPlanError.self) { try MemoryPlan.make(none, budget: 4 << 30, budgetSource: "test") }
    }

    @Test func refusesWithWhatWouldFit() {
        var request = Self.ministral
        request.requestedContext = 8192
        do {
            _ = try MemoryPlan.make(request, budget: 2_400_000_000, budgetSource: "cgroup v2 /x/memory.max")
            Issue.record("planned 8192 tokens into 2.4 GB")
        } catch let error as MemoryPlanError {
            #expect(error.description.contains("needs 2.9"), "\(error)")
            #expect(error.description.contains("budget 2.24 GiB (cgroup v2 /x/memory.max)"), "\(error)")
            #expect(error.description.contains("use --context"), "\(error)")
        } catch {
            Issue.record("\(error)")
        }
        // Where a Q8_0 cache (34/64 of F16's bytes) would fit the requested context, the advice says so.
        request.requestedContext = 4096
        request.q8KVBytesPerToken = 106_496 / 64 * 34
        do {
            _ = try MemoryPlan.make(request, budget: 2_600_000_000, budgetSource: "test")
            Issue.record("planned 4096 F16 tokens into 2.6 GB")
        } catch let error as MemoryPlanError {
            #expect(error.advice.contains("use --context") && error.advice.hasSuffix("or --kv-type q8_0"), "\(error)")
        } catch {
            Issue.record("\(error)")
        }
        do {
            _ = try MemoryPlan.make(Self.ministral, budget: 2 << 30, budgetSource: "--memory-budget")
            Issue.record("planned a 2.0 GiB model into 2 GiB")
        } catch let error as MemoryPlanError {
            #expect(error.advice.contains("leaving no room for a KV cache"), "\(error)")
        } catch {
            Issue.record("\(error)")
        }
    }

    @Test func smallModelsKeepTheirTrainingContext() throws {
        let tiny = MemoryPlan.Request(
            weightBytes: 600_000, kvBytesPerToken: 4096, trainingContext: 256, requestedContext: nil, scratchBytes: 1 << 20)
        #expect(try MemoryPlan.make(tiny, budget: 64 << 20, budgetSource: "test").contextLength == 256)
    }

    @Test func sizesParse() {
        #expect(MemoryBudget.parse("2G") == 2 << 30)
        #expect(MemoryBudget.parse("1.5GiB") == 1_610_612_736)
        #expect(MemoryBudget.parse("512M") == 512 << 20)
        #expect(MemoryBudget.parse("1000000") == 1_000_000)
        for bad in ["", "-1G", "0", "G", "abc", "1e30G", "nan"] { #expect(MemoryBudget.parse(bad) == nil, "\(bad)") }
    }

    @Test func cgroupLimitsFromFakeTrees() throws {
        let v2 = try CPUBudgetTests.FakeRoot()
        try v2.write("proc/self/cgroup", "0::/system.slice/brised.service\n")
        try v2.write("proc/self/mountinfo", CPUBudgetTests.FakeRoot.v2MountInfo)
        try v2.write("sys/fs/cgroup/system.slice/brised.service/memory.max", "max\n")
        try v2.write("sys/fs/cgroup/system.slice/brised.service/memory.high", "3221225472\n")
        try v2.write("sys/fs/cgroup/system.slice/memory.max", "4294967296\n")
        #expect(CgroupMemoryLimit.read(root: v2.path)?.bytes == 3 << 30)
        #expect(CgroupMemoryLimit.read(root: v2.path)?.source.hasSuffix("memory.high") == true)
        #expect(MemoryBudget.resolve(configured: 2 << 30, root: v2.path) == (2 << 30, "--memory-budget"))
        #expect(MemoryBudget.resolve(configured: 8 << 30, root: v2.path).bytes == 3 << 30)

        let v1 = try CPUBudgetTests.FakeRoot()
        try v1.write("proc/self/cgroup", "5:memory:/brise\n4:cpu,cpuacct:/brise\n0::/\n")
        try v1.write("proc/self/mountinfo", CPUBudgetTests.FakeRoot.v1MountInfo)
        try v1.write("sys/fs/cgroup/memory/brise/memory.limit_in_bytes", "2147483648\n")
        try v1.write("sys/fs/cgroup/memory/memory.limit_in_bytes", "9223372036854771712\n")  // v1's "no limit"
        #expect(CgroupMemoryLimit.read(root: v1.path) == CgroupMemoryLimit(
            bytes: 2 << 30, source: "cgroup v1 /sys/fs/cgroup/memory/brise/memory.limit_in_bytes"))

        let none = try CPUBudgetTests.FakeRoot()
        #expect(CgroupMemoryLimit.read(root: none.path) == nil)
        #expect(MemoryBudget.resolve(configured: nil, root: none.path).source == "physical memory")
    }
}
