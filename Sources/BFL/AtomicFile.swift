public import Foundation

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Writes a file through a temporary sibling and renames it into place, so a reader (or a
/// crash) never sees half a file. Errors name the path and the system's reason. Whatever is
/// not committed is removed when the writer goes away. The temporary name is fixed per
/// destination (`.<name>.part`), so a write cut short by a killed process is overwritten by
/// the next attempt instead of lingering; one destination must have one writer at a time.
public final class AtomicFileWriter {
    public let destination: URL
    public let temporary: URL
    private var descriptor: Int32
    private var finished = false
    public private(set) var bytesWritten = 0

    /// Creates the temporary file beside `destination`.
    public init(destination: URL) throws(BFLError) {
        self.destination = destination
        let directory = destination.deletingLastPathComponent()
        temporary = directory.appendingPathComponent(".\(destination.lastPathComponent).part")
        let fd = open(temporary.path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0o644)
        guard fd >= 0 else {
            throw .fileSystem("cannot create a file in \(directory.path): \(Self.lastError())")
        }
        descriptor = fd
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
