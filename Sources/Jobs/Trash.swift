public import Foundation
import BaseDirectories
#if canImport(Glibc)
import Glibc
#endif

/// The freedesktop Trash (the "Trash" specification): a deleted image can be restored from the
/// file manager. Each file goes to `files/NAME` with `info/NAME.trashinfo` saying where it was
/// and when it was deleted.
public struct Trash: Sendable, Hashable {
    public let directory: URL

    public init(directory: URL) { self.directory = directory }

    /// `$XDG_DATA_HOME/Trash` (default `~/.local/share/Trash`).
    public static func home(environment: [String: String]) -> Trash {
        Trash(directory: URL(fileURLWithPath: BaseDirectory.data.base(environment: environment)).appendingPathComponent("Trash"))
    }

    /// Moves the file at `path` into the Trash and returns where it went. The `.trashinfo` is
    /// written first (its name claimed with O_EXCL, so two deletions never share one), then the
    /// file is renamed there, or copied and removed across file systems.
    @discardableResult
    public func put(_ path: String, now: Date = Date()) throws(EngineError) -> URL {
        let files = directory.appendingPathComponent("files"), info = directory.appendingPathComponent("info")
        for folder in [directory, files, info] {
            do { try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true, attributes: [.posixPermissions: 0o700]) } catch {
                throw EngineError(message: "cannot make the Trash at \(folder.path): \((error as NSError).localizedDescription)")
            }
        }
        let source = URL(fileURLWithPath: path)
        let stem = source.deletingPathExtension().lastPathComponent, ext = source.pathExtension
        let formatter = DateFormatter()
        formatter.locale = Locale(identifier: "en_US_POSIX")
        formatter.dateFormat = "yyyy-MM-dd'T'HH:mm:ss"
        let allowed = CharacterSet.urlPathAllowed.subtracting(CharacterSet(charactersIn: "%"))
        let encoded = source.path.addingPercentEncoding(withAllowedCharacters: allowed) ?? source.path
        let record = "[Trash Info]\nPath=\(encoded)\nDeletionDate=\(formatter.string(from: now))\n"
        for attempt in 1...1000 {
            let name = attempt == 1 ? source.lastPathComponent : "\(stem).\(attempt)" + (ext.isEmpty ? "" : ".\(ext)")
            let infoPath = info.appendingPathComponent(name + ".trashinfo").path
            let fd = open(infoPath, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0o600)
            guard fd >= 0 else {
                if errno == EEXIST { continue }
                throw EngineError(message: "cannot write \(infoPath): \(String(cString: strerror(errno)))")
            }
            let bytes = Array(record.utf8)
            let written = bytes.withUnsafeBytes { Glibc.write(fd, $0.baseAddress, $0.count) }
            close(fd)
            let target = files.appendingPathComponent(name)
            guard written == bytes.count, !FileManager.default.fileExists(atPath: target.path) else {
                unlink(infoPath)
                if written == bytes.count { continue }
                throw EngineError(message: "cannot write \(infoPath)")
            }
            if rename(source.path, target.path) != 0 {
                let reason = errno
                // Another file system: copied, then removed (the Trash keeps a whole copy first).
                guard reason == EXDEV else {
                    unlink(infoPath)
                    throw EngineError(message: "cannot move \(source.path) to the Trash: \(String(cString: strerror(reason)))")
                }
                do {
                    try FileManager.default.copyItem(at: source, to: target)
                    try FileManager.default.removeItem(at: source)
                } catch {
                    unlink(infoPath)
                    throw EngineError(message: "cannot move \(source.path) to the Trash: \((error as NSError).localizedDescription)")
                }
            }
            return target
        }
        throw EngineError(message: "the Trash has too many files named like \(source.lastPathComponent)")
    }
}
