/// The version of this build of Brise: one number for `brise --version`, `brised --version` and the
/// daemon's `org.varlink.service.GetInfo` (both executables and the client library share this module).
public enum BriseVersion {
    /// The version string.
    public static let current = "0.3.0"
}
