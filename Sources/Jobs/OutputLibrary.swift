public import BFL
public import Foundation
import Imaging

/// Where finished images go, how they are named, and what is written beside them.
public struct OutputLibrary: Sendable {
    public let directory: URL
    private let timeZone: TimeZone

    public init(directory: URL, timeZone: TimeZone = .current) {
        self.directory = directory
        self.timeZone = timeZone
    }

    /// The same naming in another folder (a job's own destination).
    public func relocated(to directory: URL) -> OutputLibrary { OutputLibrary(directory: directory, timeZone: timeZone) }

    /// `~/Pictures/fluxdeck`.
    public static func defaultDirectory(environment: [String: String] = ProcessInfo.processInfo.environment) -> URL {
        let home = environment["HOME"] ?? NSHomeDirectory()
        return URL(fileURLWithPath: home).appendingPathComponent("Pictures/fluxdeck")
    }

    /// `2026-11-25_1632_flux-2-pro_1a2b3c4d.jpg`: from the job's own data, never from server text.
    public func fileName(for job: JobRecord, fileExtension: String) -> String {
        let formatter = DateFormatter()
        formatter.locale = Locale(identifier: "en_US_POSIX")
        formatter.timeZone = timeZone
        formatter.dateFormat = "yyyy-MM-dd_HHmm"
        let model = job.model.filter { $0.isLetter || $0.isNumber || $0 == "-" || $0 == "." }
        return "\(formatter.string(from: job.createdAt))_\(model)_\(job.shortID).\(fileExtension)"
    }

    /// Downloads the sample, embeds provenance, and writes the image and its JSON sidecar
    /// atomically. Returns their paths. Without `createFolder`, a missing folder is an error
    /// (a job's destination is never silently made again).
    public func save(job: JobRecord, sampleURL: String, client: BFLClient, createFolder: Bool = true) async throws -> (image: URL, sidecar: URL) {
        var isFolder: ObjCBool = false
        if createFolder {
            do {
                try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
            } catch {
                throw BFLError.fileSystem("cannot create the output folder \(directory.path): \(error.localizedDescription)")
            }
        } else if !FileManager.default.fileExists(atPath: directory.path, isDirectory: &isFolder) || !isFolder.boolValue {
            throw BFLError.fileSystem("the output folder \(directory.path) does not exist (was it moved or removed?)")
        }
        // The download goes to a temporary file that is read back through its descriptor and
        // copied, provenance spliced in, into the image's own temporary file: the image is never
        // held in memory whole, and no path is trusted between the two.
        let raw = try AtomicFileWriter(destination: directory.appendingPathComponent("\(job.id).download"), mode: 0o600)
        defer { raw.discard() }
        let downloaded = try await client.download(sampleURL, into: raw)
        let head = try raw.read(at: 0, count: 262_144)
        // The extension follows what the bytes are, whatever was asked for; anything that is no
        // image is refused.
        guard let format = ImageFormat.sniff(head) else {
            throw BFLError.malformedResponse("the result is not a PNG, JPEG or WebP image (\(downloaded.byteCount) bytes"
                + (downloaded.contentType.map { ", \(TerminalText.capped(TerminalText.sanitize($0), bytes: 80))" } ?? "") + ")")
        }
        let ext = switch format {
        case .png: "png"
        case .jpeg: "jpg"
        case .webp: "webp"
        }
        let image = directory.appendingPathComponent(fileName(for: job, fileExtension: ext))
        let out = try AtomicFileWriter(destination: image)
        var copied = 0
        if format == .png || format == .jpeg, let insertion = try? Provenance.insertion(provenance(job), header: head),
           insertion.offset <= downloaded.byteCount {
            try out.write(try raw.read(at: 0, count: insertion.offset))
            try out.write(insertion.bytes)
            copied = insertion.offset
        }
        while copied < downloaded.byteCount {
            let chunk = try raw.read(at: copied, count: min(1 << 16, downloaded.byteCount - copied))
            guard !chunk.isEmpty else { break }
            try out.write(chunk)
            copied += chunk.count
        }
        try out.commit()
        let mask = try saveMask(of: job, beside: image)
        let sidecar = image.deletingPathExtension().appendingPathExtension("json")
        try AtomicFileWriter.write(sidecarJSON(job, image: image, mask: mask), to: sidecar)
        return (image, sidecar)
    }

    /// A Fill job's mask, sent as data, saved beside its image as `NAME.mask.png` (or .jpg), so
    /// the edit can be seen and run again; nil when it had none.
    func saveMask(of job: JobRecord, beside image: URL) throws -> URL? {
        guard case .object(let fields)? = try? JSONDecoder().decode(JSONValue.self, from: Data(job.requestJSON.utf8)),
              let text = fields["mask"]?.stringValue, !text.hasPrefix("http"), let data = Data(base64Encoded: text),
              let format = ImageFormat.sniff(Array(data.prefix(16))), format != .webp else { return nil }
        let file = image.deletingPathExtension().appendingPathExtension("mask").appendingPathExtension(format == .png ? "png" : "jpg")
        try AtomicFileWriter.write(Array(data), to: file)
        return file
    }

    func provenance(_ job: JobRecord) -> [(key: String, value: String)] {
        var fields: [(key: String, value: String)] = [("prompt", job.prompt), ("model", job.model), ("job", job.id)]
        if let seed = job.seed { fields.append(("seed", String(seed))) }
        if let task = job.taskID { fields.append(("task", task)) }
        fields.append(("software", "fluxdeck"))
        return fields
    }

    /// The sidecar: what was asked, what it cost, where it came from. Image data in the request
    /// is replaced by its size; the API key is never anywhere near this.
    func sidecarJSON(_ job: JobRecord, image: URL, mask: URL? = nil) -> [UInt8] {
        var parameters: JSONValue = .null
        if let request = try? JSONDecoder().decode(JSONValue.self, from: Data(job.requestJSON.utf8)),
           case .object(let fields) = request {
            parameters = .object(fields.mapValues { value in
                if case .string(let text) = value, text.count > 512, !text.hasPrefix("http") {
                    return .string("<image data, \(text.count) characters>")
                }
                return value
            })
        }
        func text(_ value: String?) -> JSONValue { value.map(JSONValue.string) ?? .null }
        func number(_ value: Double?) -> JSONValue { value.map(JSONValue.number) ?? .null }
        let iso = ISO8601DateFormatter()
        let object: JSONValue = .object([
            "job_id": .string(job.id), "task_id": text(job.taskID), "model": .string(job.model),
            "model_name": text(Catalog.model(id: job.model)?.displayName), "prompt": .string(job.prompt),
            "parameters": parameters, "seed": number(job.seed.map(Double.init)),
            "estimated_credits": text(job.estimatedCredits), "charged_credits": text(job.chargedCredits?.description),
            "endpoint": .string(job.endpoint), "api_status": text(job.serverStatus), "created_at": .string(iso.string(from: job.createdAt)),
            "finished_at": text(job.finishedAt.map(iso.string(from:))), "file": .string(image.lastPathComponent),
            "software": .string("fluxdeck"),
            "starred": .bool(job.starred), "tags": .array(job.tags.map(JSONValue.string)),
            "parents": .array(job.parents.map(JSONValue.string)),
            "mask_file": mask.map { .string($0.lastPathComponent) } ?? .null,
        ])
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
        return (try? encoder.encode(object)).map(Array.init) ?? Array("{}".utf8)
    }

    /// Writes a job's star and tags into its sidecar, keeping everything else in it. A sidecar
    /// that is gone is left gone; one that is not a JSON object is not touched (the error says so).
    public static func updateSidecar(at path: String, starred: Bool, tags: [String]) throws(EngineError) {
        guard FileManager.default.fileExists(atPath: path) else { return }
        guard let data = FileManager.default.contents(atPath: path),
              case .object(var fields)? = try? JSONDecoder().decode(JSONValue.self, from: data) else {
            throw EngineError(message: "the sidecar \(path) is not a JSON object; its star and tags were not written")
        }
        fields["starred"] = .bool(starred)
        fields["tags"] = .array(tags.map(JSONValue.string))
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
        do {
            try AtomicFileWriter.write(Array(try encoder.encode(JSONValue.object(fields))), to: URL(fileURLWithPath: path))
        } catch {
            throw EngineError(message: "the sidecar \(path) could not be written: \(error)")
        }
    }

    /// Deletes an image and its sidecar (either may already be gone): into `trash` when there
    /// is one (a paid image can be restored), else for good. The first file that cannot be
    /// moved or removed is named in the error.
    public func delete(image: String?, sidecar: String?, trash: Trash? = nil) throws(EngineError) {
        // A Fill job's mask goes with its image (`saveMask` put it beside it).
        let masks = image.map { image in
            ["png", "jpg"].map { URL(fileURLWithPath: image).deletingPathExtension().appendingPathExtension("mask").appendingPathExtension($0).path }
        } ?? []
        for path in [image, sidecar].compactMap({ $0 }) + masks where FileManager.default.fileExists(atPath: path) {
            if let trash {
                try trash.put(path)
                continue
            }
            do { try FileManager.default.removeItem(atPath: path) } catch {
                throw EngineError(message: "\(path): \((error as NSError).localizedDescription)")
            }
        }
    }
}
