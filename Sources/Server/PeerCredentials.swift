import Foundation

#if canImport(Glibc)
import Glibc
#endif

/// Who is on the other end of a Unix socket (`SO_PEERCRED`: the kernel's record of the peer's pid,
/// uid and gid when it connected, which the peer cannot forge). Laid out as the kernel's `struct ucred`.
struct PeerCredentials: Sendable, Equatable {
    var pid: Int32
    var uid: UInt32
    var gid: UInt32
}

/// Who may call: users and groups from the configuration, resolved to ids at start-up.
struct AccessPolicy: Sendable, Equatable {
    /// Allowed uids (empty with `groups` empty: everyone).
    var users: Set<UInt32>
    /// Allowed gids (a peer's primary group, or a supplementary group of the peer's user).
    var groups: Set<UInt32>

    /// Resolves names and numbers.
    ///
    /// - Throws: `DaemonError` `.permission` for a name that is neither a user/group nor a number.
    init(users: [String], groups: [String]) throws(DaemonError) {
        var uids = Set<UInt32>()
        for user in users {
            if let uid = UInt32(user) {
                uids.insert(uid)
            } else if let entry = getpwnam(user) {
                uids.insert(entry.pointee.pw_uid)
            } else {
                throw DaemonError(.permission, "allowed_users: no user named \"\(user)\"")
            }
        }
        var gids = Set<UInt32>()
        for group in groups {
            if let gid = UInt32(group) {
                gids.insert(gid)
            } else if let entry = getgrnam(group) {
                gids.insert(entry.pointee.gr_gid)
            } else {
                throw DaemonError(.permission, "allowed_groups: no group named \"\(group)\"")
            }
        }
        self.users = uids
        self.groups = gids
    }

    /// Whether everyone who can open the socket may call.
    var allowsEveryone: Bool { users.isEmpty && groups.isEmpty }

    /// Whether `peer` may call. Root and the daemon's own user always may.
    func allows(_ peer: PeerCredentials) -> Bool {
        if allowsEveryone || peer.uid == 0 || peer.uid == getuid() || users.contains(peer.uid) || groups.contains(peer.gid) {
            return true
        }
        guard !groups.isEmpty else { return false }
        return Self.supplementaryGroups(of: peer.uid).contains { groups.contains($0) }
    }

    /// The groups the user with `uid` belongs to, from the group database.
    static func supplementaryGroups(of uid: UInt32) -> [UInt32] {
        guard let entry = getpwuid(uid), let name = entry.pointee.pw_name else { return [] }
        var count: Int32 = 64
        var groups = [gid_t](repeating: 0, count: Int(count))
        if getgrouplist(name, entry.pointee.pw_gid, &groups, &count) < 0 {
            groups = [gid_t](repeating: 0, count: Int(count))
            guard getgrouplist(name, entry.pointee.pw_gid, &groups, &count) >= 0 else { return [] }
        }
        return Array(groups.prefix(Int(count)))
    }
}
