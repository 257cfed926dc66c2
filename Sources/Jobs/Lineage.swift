public import BFL
import Foundation
import Imaging

/// Which job a local image came from, so a job made from it records its parents. The ledger
/// knows its saved images by path; a file moved elsewhere still names its job in its sidecar
/// (`NAME.json`, `job_id`) or in the provenance fluxdeck embeds in the image (`job`).
public enum Lineage {
    /// The job the image at `path` belongs to, or nil when nothing says.
    public static func job(ofFile path: String, store: JobStore) -> String? {
        if let id = try? store.jobID(outputPath: path) { return id }
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

    /// The family of the jobs whose id begins with `prefix`, among `jobs`: those jobs, every
    /// ancestor (their parents, theirs in turn, as far as the jobs name them) and every
    /// descendant. `JobStore.outputs` asks the ledger the same in SQL.
    public static func family(ofPrefix prefix: String, in jobs: [JobRecord]) -> Set<String> {
        let prefix = prefix.lowercased()
        let roots = jobs.filter { $0.id.lowercased().hasPrefix(prefix) }.map(\.id)
        var parents: [String: [String]] = [:], children: [String: [String]] = [:]
        for job in jobs where !job.parents.isEmpty {
            parents[job.id] = job.parents
            for parent in job.parents { children[parent, default: []].append(job.id) }
        }
        func reach(_ edges: [String: [String]]) -> Set<String> {
            var seen = Set(roots), queue = roots
            while let id = queue.popLast() {
                for next in edges[id] ?? [] where seen.insert(next).inserted { queue.append(next) }
            }
            return seen
        }
        return reach(parents).union(reach(children))
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
