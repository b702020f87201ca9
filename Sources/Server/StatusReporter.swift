import Engine
import Logging
import ServiceLifecycle

/// Keeps systemd's `STATUS=` line current (state, queue, tokens/s, thermal, memory) and reads the
/// thermal zones while no generation does, so `GetStatus` shows a fresh temperature.
struct StatusReporter: Service {
    let service: InferenceService
    let notifier: SystemdNotifier
    let interval: Duration

    func run() async throws {
        await cancelWhenGracefulShutdown {
            var last = ""
            while !Task.isCancelled {
                if service.engine.status.busySlots == 0 { service.pacer.refresh() }
                let line = service.statusLine
                if line != last, service.state.phase == .serving {
                    notifier.status(line)
                    last = line
                }
                try? await Task.sleep(for: interval)
            }
        }
    }
}
