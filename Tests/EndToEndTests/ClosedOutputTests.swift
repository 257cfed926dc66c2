import BFLSimulator
import Foundation
import Jobs
import Testing

/// A reader that goes away (`| head`) stops the printing, not the jobs.
@Suite("fluxdeck binary: a closed stdout or stderr", .timeLimit(.minutes(2)))
struct ClosedOutputTests {
    @Test("generate … 2>&1 | head -2: every job still finishes and is saved once, and the exit status is the jobs'")
    func headClosesThePipe() async throws {
        let sandbox = try Sandbox()
        defer { sandbox.remove() }
        let binary = try BinaryRunner.binaryURL().path
        // Without --json the results are paths on stdout, the progress lines on stderr: both go
        // through the pipe that head closes after two lines.
        let script = "'\(binary)' generate --simulator --sim-time-scale 0.05 --model flux-2-klein-4b --prompt 'x {a|b|c|d}' "
            + "--output-dir '\(sandbox.output.path)' 2>&1 | head -2; exit ${PIPESTATUS[0]}"
        let outcome = try await ChildProcess.run("/bin/bash", ["-c", script], environment: BinaryRunner.environment(sandbox.environment))
        #expect(outcome.status == 0, "\(outcome.stdout) \(outcome.stderr)")
        #expect(outcome.stdout.split(separator: "\n").count == 2)
        let jobs = try sandbox.store().jobs()
        #expect(jobs.count == 4 && jobs.allSatisfy { $0.phase == .done }, "\(jobs.map(\.phase))")
        #expect(sandbox.files().filter { $0.hasSuffix(".jpg") }.count == 4)
    }
}

@Suite("fluxdeck binary: a region asked for is a region kept", .timeLimit(.minutes(2)))
struct RegionKeptTests {
    @Test("generate --endpoint URL --region eu, where the endpoint maps no eu: exit 2, nothing sent, nothing queued")
    func refused() async throws {
        let sandbox = try Sandbox()
        defer { sandbox.remove() }
        let (server, environment) = try await sandbox.simulator(timeFactor: 0.02)
        let outcome = try await BinaryRunner.run(["generate", "--endpoint", server.apiURL, "--region", "eu", "--model", "flux-2-klein-4b",
                                                  "--prompt", "a harbour", "--output-dir", sandbox.output.path], environment: environment)
        #expect(outcome.status == 2, "\(outcome.stderr)")
        #expect(outcome.stderr.contains("region eu was asked for") && outcome.stderr.contains("[endpoint.regions] eu"), "\(outcome.stderr)")
        #expect(await server.core.requests.filter { $0.method == "POST" }.isEmpty)
        #expect(try sandbox.store().jobs().isEmpty)
        await server.stop()
    }
}
