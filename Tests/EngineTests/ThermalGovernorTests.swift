import Engine
import Foundation
import Testing
import TestSupport

@Suite struct ThermalGovernorTests {
    typealias Governor = ThermalGovernor<ManualClock>

    static func governor(_ limits: Governor.Limits) -> (Governor, ManualClock) { (Governor(limits: limits), ManualClock()) }

    @Test func coolMeansFullSpeed() throws {
        var (g, clock) = Self.governor(try .init())
        g.observe(celsius: 40)
        for _ in 0..<5 {
            #expect(try g.beforeToken(now: clock.now) == .proceed)
            clock.advance(by: .milliseconds(20))
            g.afterToken(now: clock.now)
        }
        #expect(g.state == .normal)
    }

    @Test func rateCapSpacesTokenStarts() throws {
        var (g, clock) = Self.governor(try .init(maximumTokensPerSecond: 10))
        #expect(try g.beforeToken(now: clock.now) == .proceed)
        clock.advance(by: .milliseconds(20))
        g.afterToken(now: clock.now)
        #expect(try g.beforeToken(now: clock.now) == .wait(.milliseconds(80)))
        clock.advance(by: .milliseconds(80))
        #expect(try g.beforeToken(now: clock.now) == .proceed)
    }

    /// Between the limits: a pause after each token, growing across the band.
    @Test func pacingGrowsAcrossTheBand() throws {
        var (g, clock) = Self.governor(try .init(softLimit: 70, hardLimit: 80, maximumPause: .milliseconds(200)))
        #expect(try g.beforeToken(now: clock.now) == .proceed)
        g.afterToken(now: clock.now)
        g.observe(celsius: 75)
        #expect(g.state == .pacing(fraction: 0.5))
        #expect(try g.beforeToken(now: clock.now) == .wait(.milliseconds(100)))
        g.observe(celsius: 79)
        #expect(try g.beforeToken(now: clock.now) == .wait(.milliseconds(180)))
        clock.advance(by: .milliseconds(180))
        #expect(try g.beforeToken(now: clock.now) == .proceed)
        #expect(g.summary.contains("pacing 90%"))
    }

    /// At the hard limit: paused until below the soft limit (not merely below the hard one).
    @Test func pausesAtTheHardLimitWithHysteresis() throws {
        var (g, clock) = Self.governor(try .init(softLimit: 70, hardLimit: 85, maximumPause: .milliseconds(100)))
        g.observe(celsius: 90)
        #expect(g.state == .paused)
        #expect(try g.beforeToken(now: clock.now) == .wait(.milliseconds(100)))
        clock.advance(by: .seconds(1))
        g.observe(celsius: 80)
        #expect(g.state == .paused)
        #expect(try g.beforeToken(now: clock.now) == .wait(.milliseconds(100)))
        g.observe(celsius: 69)
        #expect(g.state == .normal)
        #expect(try g.beforeToken(now: clock.now) == .proceed)
    }

    @Test func aTokenHeldTooLongFails() throws {
        var (g, clock) = Self.governor(try .init(maximumWait: .seconds(5)))
        g.observe(celsius: 95)
        _ = try g.beforeToken(now: clock.now)
        clock.advance(by: .seconds(4))
        _ = try g.beforeToken(now: clock.now)
        clock.advance(by: .seconds(2))
        #expect(throws: ThermalError.self) { try g.beforeToken(now: clock.now) }
    }

    @Test func badLimitsAreErrors() {
        #expect(throws: ThermalError.self) { try Governor.Limits(softLimit: 80, hardLimit: 70) }
        #expect(throws: ThermalError.self) { try Governor.Limits(maximumTokensPerSecond: 0) }
        #expect(throws: ThermalError.self) { try Governor.Limits(softLimit: .nan) }
    }

    @Test func zonesFromAFakeSysfs() throws {
        let root = FileManager.default.temporaryDirectory.appendingPathComponent("brise-thermal-\(UUID())")
        defer { try? FileManager.default.removeItem(at: root) }
        for (zone, type, temp) in [("thermal_zone0", "cpu-thermal", "45000"), ("thermal_zone1", "gpu", "71500\n"),
                                   ("thermal_zone2", "broken", "hot"), ("cooling_device0", "fan", "1")] {
            let dir = root.appendingPathComponent(zone)
            try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
            try type.write(to: dir.appendingPathComponent("type"), atomically: true, encoding: .utf8)
            try temp.write(to: dir.appendingPathComponent("temp"), atomically: true, encoding: .utf8)
        }
        let zones = ThermalZones(directory: root.path)
        #expect(zones.read().map(\.zone) == ["thermal_zone0", "thermal_zone1"])
        #expect(zones.hottest() == .init(zone: "thermal_zone1", type: "gpu", celsius: 71.5))
        #expect(ThermalZones(directory: root.path + "/none").hottest() == nil)
    }
}
