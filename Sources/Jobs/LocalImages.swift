public import BFL
import Foundation
import Imaging

/// Reading local images for requests and previews, with one clear sentence per problem.
public enum LocalImages {
    /// The home folder as the shell knows it: `$HOME`, else the account's.
    public static var home: String {
        if let home = ProcessInfo.processInfo.environment["HOME"], home.hasPrefix("/") { return home }
        return NSHomeDirectory()
    }

    /// `~` and `~/…` with the home folder put in, as a shell does (Foundation's
    /// `expandingTildeInPath` reads the account's home and ignores `$HOME`); `~user` forms are
    /// left to Foundation.
    public static func expandingHome(_ text: String, home: String = LocalImages.home) -> String {
        if text == "~" { return home }
        if text.hasPrefix("~/") { return home + text.dropFirst() }
        return text.hasPrefix("~") ? (text as NSString).expandingTildeInPath : text
    }

    /// Whether a reference is a web address (sent as is) rather than a local file.
    public static func isURL(_ text: String) -> Bool {
        guard let url = URL(string: text), let scheme = url.scheme?.lowercased() else { return false }
        return scheme == "http" || scheme == "https"
    }

    /// The most BFL accepts for an input image.
    public static let maxInputBytes = 20 * 1_048_576

    /// A reference for a request: a URL is sent as is; a local file is checked (header and
    /// size, so an oversized file is refused before it is read), then read and sent as base64
    /// with its size for pricing.
    public static func reference(_ text: String) throws(EngineError) -> ImageReference {
        guard let size = try size(of: text) else { return ImageReference(value: text, label: text) }
        let path = expandingHome(text)
        let data: Data
        do { data = try Data(contentsOf: URL(fileURLWithPath: path)) } catch {
            throw EngineError(message: "cannot read the image \(text): \(readFailure(error))")
        }
        return ImageReference(value: data.base64EncodedString(), size: size, label: URL(fileURLWithPath: path).lastPathComponent,
                              path: URL(fileURLWithPath: path).standardizedFileURL.path)
    }

    /// The pixel size of a local image (or nil size for a URL), reading only its header.
    public static func size(of text: String) throws(EngineError) -> PixelSize? {
        if isURL(text) { return nil }
        let path = expandingHome(text)
        guard let handle = FileHandle(forReadingAtPath: path) else {
            let exists = FileManager.default.fileExists(atPath: path)
            throw EngineError(message: exists ? "cannot read the image \(text): permission denied" : "cannot read the image \(text): no such file")
        }
        defer { try? handle.close() }
        let head = (try? handle.read(upToCount: 65_536)) ?? Data()
        guard let size = ImageHeader.size(of: Array(head)) else {
            throw EngineError(message: "\(text) is not a PNG or JPEG image")
        }
        let bytes = (try? FileManager.default.attributesOfItem(atPath: path)[.size] as? Int) ?? 0
        guard bytes <= maxInputBytes else {
            throw EngineError(message: "\(text) is \(bytes / 1_048_576) MB; BFL accepts inputs up to 20 MB")
        }
        return PixelSize(width: size.width, height: size.height)
    }

}

/// What a path typed in a field completes to: the text to put in the field, and the names
/// that matched (directories first, each with a trailing `/`).
public struct PathCompletion: Sendable, Hashable {
    public var text: String
    public var matches: [String]

    public init(text: String, matches: [String]) {
        self.text = text
        self.matches = matches
    }
}

extension LocalImages {
    /// The most names one completion lists.
    public static let completionLimit = 500

    /// Completes `text` as a shell does: the entries of its directory whose names start with
    /// what follows its last `/` (hidden ones only when that starts with a dot), directories
    /// first. One match completes whole (a directory with its `/`); several complete to what
    /// they share. `~` stands for `home` and stays as typed; a relative path is read from
    /// `directory`.
    public static func complete(_ text: String, home: String, directory: String) -> PathCompletion {
        let slash = text.lastIndex(of: "/")
        let folderPart = slash.map { String(text[...$0]) } ?? ""
        let prefix = slash.map { String(text[text.index(after: $0)...]) } ?? text
        var folder = folderPart.isEmpty ? directory : expandingHome(folderPart, home: home)
        if !folder.hasPrefix("/") { folder = directory + "/" + folder }
        guard let names = try? FileManager.default.contentsOfDirectory(atPath: folder) else {
            return PathCompletion(text: text, matches: [])
        }
        var folders: [String] = []
        var files: [String] = []
        for name in names where name.hasPrefix(prefix) && (prefix.hasPrefix(".") || !name.hasPrefix(".")) {
            var isFolder: ObjCBool = false
            if FileManager.default.fileExists(atPath: folder + "/" + name, isDirectory: &isFolder), isFolder.boolValue {
                folders.append(name + "/")
            } else {
                files.append(name)
            }
        }
        let matches = Array((folders.sorted() + files.sorted()).prefix(completionLimit))
        guard let first = matches.first else { return PathCompletion(text: text, matches: []) }
        if matches.count == 1 { return PathCompletion(text: folderPart + first, matches: matches) }
        var shared = first
        for name in matches.dropFirst() {
            while !name.hasPrefix(shared) { shared.removeLast() }
        }
        return PathCompletion(text: folderPart + (shared.count > prefix.count ? shared : prefix), matches: matches)
    }
}
