import BFL
public import Foundation
public import Jobs
public import Studio
import TerminalCore

/// A job record for tests: the fields every test leaves alone have one value here; `edit`
/// sets what the test is about.
public func fixtureJob(_ id: String, _ phase: JobPhase, model: String = "flux-2-pro", endpoint: String = "simulator",
                       prompt: String = "p", requestJSON: String = "{}", group: String? = nil,
                       created: Date = Date(timeIntervalSince1970: 1000), edit: (inout JobRecord) -> Void = { _ in }) -> JobRecord {
    var record = JobRecord(id: id, createdAt: created, model: model, endpoint: endpoint, prompt: prompt, requestJSON: requestJSON,
                           estimatedCredits: "3", fileExtension: "jpg", groupID: group)
    record.phase = phase
    edit(&record)
    return record
}

/// Types `text` into the studio, a key per character.
public func typed(_ text: String, into state: inout AppState) {
    for character in text { _ = reduce(&state, .key(.char(character))) }
}
