import BaseDirectories
import BFL
import Foundation
public import Studio

/// Where the studio keeps its form between sessions, and how it reads and writes it. Reading
/// never stops the studio: a missing file is a first start, a damaged one is said in the log
/// and the defaults are used.
public enum FormMemory {
    /// `$XDG_STATE_HOME/fluxdeck/form.json`, beside the log.
    public static func path(environment: [String: String]) -> String {
        BaseDirectory.state.path("form.json", environment: environment)
    }

    /// The most a form file may be; anything larger is not one.
    static let maxBytes = 64 * 1024

    public static func load(_ path: String, log: StudioLogger) -> RememberedForm? {
        guard let type = (try? FileManager.default.attributesOfItem(atPath: path))?[.type] as? FileAttributeType else { return nil }
        // Opened only when it is a file: a FIFO there would hold the start.
        guard type == .typeRegular, let handle = FileHandle(forReadingAtPath: path) else {
            log.info("the remembered form at \(path) is not a file; starting from the defaults")
            return nil
        }
        defer { try? handle.close() }
        let data = (try? handle.read(upToCount: maxBytes + 1)) ?? Data()
        guard data.count <= maxBytes, let form = try? JSONDecoder().decode(RememberedForm.self, from: data) else {
            log.info("the remembered form at \(path) cannot be read; starting from the defaults")
            return nil
        }
        return form
    }

    public static func save(_ form: RememberedForm, to path: String, log: StudioLogger) {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .prettyPrinted]
        do {
            let url = URL(fileURLWithPath: path)
            try FileManager.default.createDirectory(at: url.deletingLastPathComponent(), withIntermediateDirectories: true)
            try AtomicFileWriter.write(Array(try encoder.encode(form)), to: url)
        } catch {
            log.info("the form could not be remembered at \(path): \(error)")
        }
    }
}
