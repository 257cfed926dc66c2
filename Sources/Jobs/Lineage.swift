public import BFL
import Foundation
import Imaging

/// Which job a local image came from, so a job made from it records its parents. The ledger
/// knows its saved images by path; a file moved elsewhere still names its job in its sidecar
/// (`NAME.json`, `job_id`) or in the provenance fluxdeck embeds in the image (`job`).
public enum Lineage {
    /// The job the image at `path` belongs to, or nil when nothing says.
    public static func job(ofFile path: String, store: JobStore) -> String? {
        if let job = try? store.job(outputPath: path) { return job.id }
        let url = URL(fileURLWithPath: path)
        let sidecar = url.deletingPathExtension().appendingPathExtension("json")
        if let head = head(of: sidecar.path, limit: 1_048_576),
           case .object(let fields)? = try? JSONDecoder().decode(JSONValue.self, from: Data(head)),
           let id = fields["job_id"]?.stringValue, isJobID(id) {
            return id
        }
        if let head = head(of: path, limit: 262_144),
           let id = Provenance.read(from: head).first(where: { $0.key == "job" })?.value, isJobID(id) {
            return id.lowercased()
        }
        return nil
    }

    /// The parents of a request: the jobs of the local images it was made from (the image, its
    /// mask, its references), each once, in that order.
    public static func parents(of parameters: GenerationParameters, store: JobStore) -> [String] {
        let paths = ([parameters.image, parameters.mask] + parameters.references.map(Optional.some)).compactMap { $0?.path }
        var seen: Set<String> = []
        return paths.compactMap { job(ofFile: $0, store: store) }.filter { seen.insert($0).inserted }
    }

    /// Job ids are UUIDs; anything else in a file is not taken for one.
    static func isJobID(_ text: String) -> Bool { UUID(uuidString: text) != nil }

    /// The first `limit` bytes of a regular file (nil for anything else: a FIFO would hold the
    /// caller, a folder has none).
    static func head(of path: String, limit: Int) -> [UInt8]? {
        guard (try? FileManager.default.attributesOfItem(atPath: path)[.type] as? FileAttributeType) == .typeRegular,
              let handle = FileHandle(forReadingAtPath: path) else { return nil }
        defer { try? handle.close() }
        return (try? handle.read(upToCount: limit)).map(Array.init)
    }
}
