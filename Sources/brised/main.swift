// brised: the Brise daemon. For now it only reports its version and the system libraries it links
// (libsystemd, OpenBLAS); the daemon itself arrives with its issue.
import COpenBLAS
import CSystemd

#if canImport(Glibc)
import Glibc
#endif

let version = "0.1.0"
let arguments = CommandLine.arguments.dropFirst()
if arguments.contains("--help") || arguments.contains("-h") {
    print("usage: brised --version\n\nThe Brise daemon (not serving yet: see the README).")
    exit(0)
}
let underSystemd = sd_booted() > 0 ? "yes" : "no"
let blas = openblas_get_config().map { String(cString: $0) } ?? "unknown"
print("brised \(version)")
print("libsystemd: linked (system booted with systemd: \(underSystemd))")
print("OpenBLAS: \(blas)")
if !arguments.contains("--version") {
    let message = "brised: the daemon is not implemented yet; only --version works\n"
    _ = message.withCString { write(2, $0, strlen($0)) }
    exit(64)
}
