import Foundation
import TestSupport
import Testing

#if canImport(Glibc)
import Glibc
#endif

extension Daemon {
    /// SO_PEERCRED against allowed_users / allowed_groups, with a real client running as another user.
    @Suite struct PeerCredentials {
        static let setpriv = "/usr/bin/setpriv"
        static let systemPython = "/usr/bin/python3"
        static var canSwitchUsers: Bool {
            getuid() == 0 && FileManager.default.isExecutableFile(atPath: setpriv) && getpwnam("nobody") != nil
                && FileManager.default.isExecutableFile(atPath: systemPython)
        }

        /// Runs the Python client as `nobody`. The venv lives under root's home, which nobody cannot
        /// enter: the client and the (pure-Python) varlink package are copied next to the socket and
        /// run with the system's Python.
        static func asNobody(_ socket: String, _ action: String) throws -> ChildProcess.Result {
            let nobody = getpwnam("nobody")!.pointee
            let directory = URL(fileURLWithPath: socket).deletingLastPathComponent()
            let packages = directory.appendingPathComponent("py")
            if !FileManager.default.fileExists(atPath: packages.path) {
                let site = try #require(
                    try ChildProcess.run(Daemon.venvPython, ["-c", "import varlink, os; print(os.path.dirname(varlink.__file__))"])
                        .standardOutput.split(separator: "\n").first.map(String.init))
                try FileManager.default.createDirectory(at: packages, withIntermediateDirectories: true)
                try FileManager.default.copyItem(atPath: site, toPath: packages.appendingPathComponent("varlink").path)
                try FileManager.default.copyItem(atPath: Daemon.pythonClient, toPath: packages.appendingPathComponent("client.py").path)
                _ = try ChildProcess.run("/bin/chmod", ["-R", "a+rX", packages.path])
            }
            return try ChildProcess.run(
                setpriv,
                [
                    "--reuid=\(nobody.pw_uid)", "--regid=\(nobody.pw_gid)", "--clear-groups", systemPython,
                    packages.appendingPathComponent("client.py").path, socket, action,
                ],
                environment: ["HOME": "/tmp", "PYTHONPATH": packages.path, "PYTHONDONTWRITEBYTECODE": "1"])
        }

        @Test(.enabled(if: PeerCredentials.canSwitchUsers && Daemon.pythonVarlinkAvailable, "needs root, setpriv and the venv"))
        func disallowedPeerGetsPermissionDeniedAndNothingElse() throws {
            let (daemon, socket) = try Daemon.start(["--socket-mode", "0666", "--allowed-users", "root"])
            let refused = try Self.asNobody(socket, "info")
            let output = try JSONSerialization.jsonObject(with: Data(refused.standardOutput.utf8)) as? [String: Any]
            #expect(output?["error"] as? String == "io.brise.Inference.PermissionDenied", "\(refused.standardOutput) \(refused.standardError)")
            let parameters = output?["parameters"] as? [String: Any]
            #expect(parameters?["uid"] as? Int == Int(getpwnam("nobody")!.pointee.pw_uid))
            // Root (allowed) is still served.
            let info = try Daemon.python(socket, "info")
            #expect(info["product"] as? String == "brised")
            daemon.signal(SIGTERM)
            #expect(daemon.waitForExit(timeout: 20) == 0)

            // Allowed by user name: nobody is served.
            let (open, openSocket) = try Daemon.start(["--socket-mode", "0666", "--allowed-users", "root,nobody"])
            let served = try Self.asNobody(openSocket, "info")
            #expect(served.exitStatus == 0 && served.standardOutput.contains("brised"), "\(served.standardOutput) \(served.standardError)")
            open.signal(SIGTERM)
            #expect(open.waitForExit(timeout: 20) == 0)
        }

        /// The socket file brised binds gets the configured mode; a user it does not admit cannot even connect.
        @Test func socketModeIsApplied() throws {
            let (daemon, socket) = try Daemon.start(["--socket-mode", "0600"])
            var info = stat()
            #expect(stat(socket, &info) == 0)
            #expect(info.st_mode & 0o777 == 0o600)
            daemon.signal(SIGTERM)
            #expect(daemon.waitForExit(timeout: 20) == 0)
            let (defaulted, defaultSocket) = try Daemon.start()
            #expect(stat(defaultSocket, &info) == 0)
            #expect(info.st_mode & 0o777 == 0o660)
            defaulted.signal(SIGTERM)
            #expect(defaulted.waitForExit(timeout: 20) == 0)
        }
    }
}
