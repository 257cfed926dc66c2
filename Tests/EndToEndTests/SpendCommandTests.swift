import BFL
import Foundation
import Jobs
import Testing

@Suite("fluxdeck binary: spend")
struct SpendCommandTests {
    /// A sandbox whose ledger holds three jobs of today: two charged on a proxy with a comma and
    /// quotes in its name, one moderated and charged elsewhere.
    func sandbox() throws -> Sandbox {
        let sandbox = try Sandbox()
        let store = try sandbox.store()
        let now = Date()
        let entries: [(String, String, JobPhase, String?)] = [("a", "https://proxy.example/a,\"b\"", .done, "4.5"),
                                                              ("b", "https://proxy.example/a,\"b\"", .failed, nil), ("c", "https://api.bfl.ai", .moderated, "3")]
        let jobs: [JobRecord] = entries.enumerated().map { n, entry in
            var job = JobRecord(id: "spend-\(entry.0)", createdAt: now.addingTimeInterval(-Double(n)), model: "flux-2-pro", endpoint: entry.1,
                                prompt: "p", requestJSON: "{}", estimatedCredits: "4.5", fileExtension: "jpg", groupID: nil)
            job.phase = entry.2
            job.settledCost = entry.3
            return job
        }
        try store.insert(jobs)
        return sandbox
    }

    @Test("the table, CSV and JSON agree; moderated charges are marked; bad options are named")
    func outputs() async throws {
        let sandbox = try sandbox()
        defer { sandbox.remove() }
        let table = try await BinaryRunner.run(["spend", "--by", "endpoint"], environment: sandbox.environment)
        #expect(table.status == 0, "\(table.stderr)")
        #expect(table.stdout.contains("3*"), "\(table.stdout)")
        #expect(table.stdout.contains("* includes 3 credits ($0.03) charged for moderated jobs"))
        let total = try #require(table.stdout.split(separator: "\n").first { $0.hasPrefix("total") })
        #expect(total.split(separator: " ").map(String.init) == ["total", "3", "1", "1", "1", "13.5", "7.5*", "$0.075"])

        let csv = try await BinaryRunner.run(["spend", "--by", "endpoint", "--csv"], environment: sandbox.environment)
        let lines = csv.stdout.components(separatedBy: "\r\n")
        #expect(lines.contains("\"https://proxy.example/a,\"\"b\"\"\",2,1,1,0,9,4.5,0.045,0"), "\(csv.stdout)")
        #expect(lines.contains("total,3,1,1,1,13.5,7.5,0.075,3"))

        let json = try await BinaryRunner.run(["spend", "--by", "model", "--json"], environment: sandbox.environment)
        let object = try #require(try JSONSerialization.jsonObject(with: Data(json.stdout.utf8)) as? [String: Any])
        let rows = try #require(object["rows"] as? [[String: Any]])
        #expect(rows.count == 1 && rows.first?["bucket"] as? String == "flux-2-pro")
        #expect((object["total"] as? [String: Any])?["moderated_charged_credits"] as? Double == 3)

        for (arguments, message) in [(["--by", "fortnight"], "--by must be day, week, model or endpoint"),
                                     (["--since", "2026-02-30"], "--since must be a day written YYYY-MM-DD"),
                                     (["--since", "2026-11-30", "--until", "2026-11-01"], "--since is after --until"),
                                     (["--json", "--csv"], "cannot be used together")] {
            let refused = try await BinaryRunner.run(["spend"] + arguments, environment: sandbox.environment)
            #expect(refused.status == 2 && refused.stderr.contains(message), "\(arguments): \(refused.stderr)")
        }
        let empty = try await BinaryRunner.run(["spend", "--since", "2020-01-01", "--until", "2020-01-31"], environment: sandbox.environment)
        #expect(empty.status == 0 && empty.stdout.contains("No jobs in this period."))
    }
}
