public import Foundation

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Writes a file through a temporary sibling and renames it into place, so a reader (or a
/// crash) never sees half a file. Errors name the path and the system's reason. Whatever is
/// not committed is removed when the writer goes away.
///
/// The temporary file has a random name (`.<name>.<pid>-<random>.part`), is created with
/// `O_CREAT|O_EXCL|O_NOFOLLOW` (nobody can plant a link or a file there first), and is read
/// back only through its own descriptor (`read(at:count:)`), never by path. Temporaries left
/// by a killed fluxdeck (exactly that name, and its pid gone) are removed by
/// `removeLeftovers(in:)`, which the job engine runs on the folders it resumes work in.
public final class AtomicFileWriter {
    public let destination: URL
    public let temporary: URL
    private var descriptor: Int32
    private var finished = false
    public private(set) var bytesWritten = 0

    /// The random part of a temporary's name: this many of these characters.
    static let randomLength = 12
    static let randomAlphabet = "abcdefghijklmnopqrstuvwxyz0123456789"

    /// Creates the temporary file beside `destination`.
    public init(destination: URL, mode: mode_t = 0o644) throws(BFLError) {
        self.destination = destination
        let directory = destination.deletingLastPathComponent()
        let name = destination.lastPathComponent
        var fd: Int32 = -1
        var candidate = directory
        for _ in 0..<8 {
            let random = (0..<Self.randomLength).map { _ in Self.randomAlphabet.randomElement() ?? "x" }
            candidate = directory.appendingPathComponent(".\(name).\(getpid())-\(String(random)).part")
            fd = open(candidate.path, O_RDWR | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, mode)
            if fd >= 0 || errno != EEXIST { break }
        }
        guard fd >= 0 else {
            throw .fileSystem("cannot create a file in \(directory.path): \(Self.lastError())")
        }
        temporary = candidate
        descriptor = fd
    }

    /// Removes the temporaries a killed fluxdeck left in `directory`: only names exactly of
    /// the form `.<name>.<pid>-<12 random>.part`, regular files, whose process is gone. Any
    /// other file, however it is named or however old, is the user's and stays. One listing of
    /// the folder: run it when work resumes there, not for every file written.
    public static func removeLeftovers(in directory: URL) {
        guard let entries = try? FileManager.default.contentsOfDirectory(atPath: directory.path) else { return }
        for entry in entries {
            guard let pid = leftoverPID(entry), pid != getpid(), kill(pid, 0) != 0, errno == ESRCH else { continue }
            let path = directory.appendingPathComponent(entry).path
            var info = stat()
            guard lstat(path, &info) == 0, (info.st_mode & S_IFMT) == S_IFREG else { continue }
            unlink(path)
        }
    }

    /// The pid in a temporary's name, when `entry` is exactly such a name.
    static func leftoverPID(_ entry: String) -> Int32? {
        guard entry.hasPrefix("."), entry.hasSuffix(".part") else { return nil }
        let stem = entry.dropFirst().dropLast(".part".count)
        guard let dot = stem.lastIndex(of: "."), dot > stem.startIndex else { return nil }
        let tag = stem[stem.index(after: dot)...]
        let parts = tag.split(separator: "-", omittingEmptySubsequences: false)
        guard parts.count == 2, parts[1].count == randomLength, parts[1].allSatisfy({ randomAlphabet.contains($0) }),
              (1...10).contains(parts[0].count), parts[0].allSatisfy(\.isASCII), let pid = Int32(parts[0]), pid > 0
        else { return nil }
        return pid
    }

    /// Empties the file (a download that starts again).
    public func reset() throws(BFLError) {
        guard !finished, ftruncate(descriptor, 0) == 0, lseek(descriptor, 0, SEEK_SET) == 0 else {
            throw .fileSystem("cannot rewrite \(temporary.path): \(Self.lastError())")
        }
        bytesWritten = 0
    }

    /// Up to `count` bytes from `offset`, read through the descriptor (never by path).
    public func read(at offset: Int, count: Int) throws(BFLError) -> [UInt8] {
        var buffer = [UInt8](repeating: 0, count: max(0, count))
        var filled = 0
        while filled < buffer.count {
            let got = buffer.withUnsafeMutableBytes { raw -> Int in
                guard let base = raw.baseAddress else { return 0 }
                return pread(descriptor, base + filled, raw.count - filled, off_t(offset + filled))
            }
            if got < 0 {
                if errno == EINTR { continue }
                throw .fileSystem("cannot read \(temporary.path) back: \(Self.lastError())")
            }
            if got == 0 { break }
            filled += got
        }
        return Array(buffer[..<filled])
    }

    /// Appends bytes.
    public func write(_ bytes: [UInt8]) throws(BFLError) {
        var offset = 0
        while offset < bytes.count {
            let written = bytes.withUnsafeBytes { buffer -> Int in
                guard let base = buffer.baseAddress else { return 0 }
                return Foundation.write(descriptor, base + offset, buffer.count - offset)
            }
            if written < 0 {
                if errno == EINTR { continue }
                let reason = Self.lastError()
                discard()
                throw .fileSystem("cannot write \(destination.path): \(reason)")
            }
            offset += written
        }
        bytesWritten += bytes.count
    }

    /// Flushes to disk (unless `durable` is false) and renames the file into place.
    public func commit(durable: Bool = true) throws(BFLError) {
        guard !finished else { throw .fileSystem("\(destination.path) was already finished") }
        if durable, fsync(descriptor) != 0 {
            let reason = Self.lastError()
            discard()
            throw .fileSystem("cannot write \(destination.path): \(reason)")
        }
        close(descriptor)
        finished = true
        if rename(temporary.path, destination.path) != 0 {
            let reason = Self.lastError()
            unlink(temporary.path)
            throw .fileSystem("cannot move the file into \(destination.path): \(reason)")
        }
    }

    /// Closes and removes the temporary file.
    public func discard() {
        guard !finished else { return }
        finished = true
        close(descriptor)
        unlink(temporary.path)
    }

    deinit { discard() }

    static func lastError() -> String {
        String(cString: strerror(errno))
    }

    /// Writes `bytes` to `destination` atomically in one go.
    public static func write(_ bytes: [UInt8], to destination: URL) throws(BFLError) {
        let writer = try AtomicFileWriter(destination: destination)
        try writer.write(bytes)
        try writer.commit()
    }
}

/// Folders and files only their owner may read: the ledger, the log.
public enum PrivateFiles {
    /// Creates `path` (and its parents) if needed; the folder itself is made 0700.
    public static func makeFolder(_ path: String) throws {
        try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true,
                                                attributes: [.posixPermissions: 0o700])
        restrict(path, mode: 0o700)
    }

    /// Creates an empty file 0600 if there is none (never following a link); an existing one is
    /// made 0600. A symbolic link there (dangling or not) is refused: whatever opens the path
    /// next would follow it and create or use a file elsewhere, with its own permissions.
    public static func makeFile(_ path: String) throws {
        let fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0o600)
        if fd >= 0 {
            close(fd)
        } else if errno != EEXIST {
            throw BFLError.fileSystem("cannot create \(path): \(String(cString: strerror(errno)))")
        }
        var info = stat()
        if lstat(path, &info) == 0, (info.st_mode & S_IFMT) == S_IFLNK {
            let target = (try? FileManager.default.destinationOfSymbolicLink(atPath: path)) ?? "somewhere else"
            throw BFLError.fileSystem("\(path) is a symbolic link (to \(target)); fluxdeck keeps this file private in a file of its own: remove the link, or point XDG_DATA_HOME elsewhere")
        }
        restrict(path)
    }

    /// Sets `mode` on `path` if it exists and is ours (a link is left alone).
    public static func restrict(_ path: String, mode: mode_t = 0o600) {
        var info = stat()
        guard lstat(path, &info) == 0, (info.st_mode & S_IFMT) != S_IFLNK, info.st_uid == geteuid() else { return }
        if info.st_mode & 0o777 != mode { chmod(path, mode) }
    }
}
