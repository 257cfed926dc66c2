import BFLSimulator
import Foundation
import Jobs
import Testing
import TestSupport

#if canImport(Glibc)
import Glibc
#endif

/// A signal while requests are out: nothing paid for is lost.
@Suite("fluxdeck binary: signals during submission", .timeLimit(.minutes(2)))
struct SignalTests {
    @Test("SIGTERM while 24 POSTs wait 1.5 s for their answers: it waits for them, records every task, exits 143; resume saves 24 images, 24 POSTs in all",
          arguments: [SIGTERM, SIGINT])
    func signalWhileSending(_ number: Int32) async throws {
        let sandbox = try Sandbox()
        defer { sandbox.remove() }
        let (server, environment) = try await sandbox.simulator(timeFactor: 0.1)
        await server.core.setFaults(try Faults(spec: "latency=1500ms"))
        let file = sandbox.root.appendingPathComponent("jobs.jsonl")
        try Data((1...24).map { #"{"model":"flux-2-klein-4b","prompt":"pier \#($0)"}"# }.joined(separator: "\n").utf8).write(to: file)
        let child = try BinaryRunner.start(["batch", file.path, "--endpoint", server.apiURL, "--output-dir", sandbox.output.path],
                                           environment: environment)
        defer { child.send(SIGKILL) }
        // Every POST has arrived (each task exists and is charged); their answers are 1.5 s away.
        #expect(await server.core.waitForSubmissions(atLeast: 24, within: .seconds(60)))
        child.send(number)
        let status = try #require(await child.wait(within: 60), "still running a minute after the signal")
        #expect(status == 128 + number, "exit status \(status)")
        let jobs = try sandbox.store().jobs()
        #expect(jobs.count == 24)
        #expect(jobs.allSatisfy { $0.taskID != nil && $0.phase != .submitting && $0.phase != .unknown }, "\(jobs.map(\.phase))")
        // What is left, a resume finishes: each image once, nothing sent again.
        await server.core.setFaults(try Faults(spec: ""))
        let resumed = try await BinaryRunner.run(["jobs", "resume", "--endpoint", server.apiURL, "--output-dir", sandbox.output.path],
                                                 environment: environment)
        #expect(resumed.status == 0, "\(resumed.stderr)")
        #expect(try sandbox.store().jobs().allSatisfy { $0.phase == .done })
        #expect(sandbox.files().filter { $0.hasSuffix(".jpg") }.count == 24)
        #expect(await server.core.acceptedSubmissions == 24)
        await server.stop()
    }
}

@Suite("Studio in tmux: quitting while requests are out", .timeLimit(.minutes(2)))
struct StudioQuitTests {
    @Test("quit (y) while 4 POSTs wait for their answers: the studio waits for them and records every task; none is left unknown",
          .enabled(if: FileManager.default.isExecutableFile(atPath: "/usr/bin/tmux")))
    func quitWhileSending() async throws {
        let sandbox = try Sandbox()
        defer { sandbox.remove() }
        let (server, key) = try await sandbox.simulator(timeFactor: 0.1)
        // The answers are held until the studio says it waits for them: all 4 are out when y
        // is pressed, however slow the machine.
        await server.core.holdSubmissions()
        var environment = sandbox.environment
        environment["BFL_API_KEY"] = key["BFL_API_KEY"]
        environment["XDG_CONFIG_HOME"] = sandbox.root.appendingPathComponent("config").path
        environment["XDG_STATE_HOME"] = sandbox.root.appendingPathComponent("state").path
        let rig = try await StudioRig.start(["--endpoint", server.apiURL, "--output-dir", sandbox.output.path, "--graphics", "blocks"],
                                            in: sandbox.root, environment: environment)
        defer { rig.stop() }
        #expect(await rig.frame(containing: "frame 120x40") != nil)
        try await rig.literal("a quiet harbour")
        try await rig.keys("Tab", "Down", "Down", "Down", "+", "+", "+")
        #expect(await rig.frame(containing: "count=4") != nil)
        try await rig.keys("Enter")
        #expect(await server.core.waitForSubmissions(atLeast: 4, within: .seconds(60)))
        try await rig.keys("C-q")
        #expect(await rig.frame(containing: "confirming=true") != nil)
        try await rig.keys("y")
        // The studio has closed its screen and says what it waits for: the answers go now.
        let waiting = "waiting up to 5 s for the 4 request(s) already sent"
        let said = try await rig.screenOnceFramesEnd(showing: waiting)
        let shown = try await rig.screen()
        #expect(said, "\(shown)")
        await server.core.releaseSubmissions()
        let screen = try await rig.exited()
        #expect(screen.contains("exit=0"), "\(screen)")
        let jobs = try sandbox.store().jobs()
        #expect(jobs.count == 4 && jobs.allSatisfy { $0.taskID != nil && $0.phase != .submitting }, "\(jobs.map(\.phase))")
        #expect(await server.core.acceptedSubmissions == 4)
        await server.stop()
    }
}

@Suite("fluxdeck simulate: stopped as a user stops it", .timeLimit(.minutes(1)))
struct SimulateSignalTests {
    @Test("Ctrl-C (SIGINT) or SIGTERM: it answers until then, then stops listening, says so and exits 0", arguments: [SIGINT, SIGTERM])
    func stop(_ number: Int32) async throws {
        let sandbox = try Sandbox()
        defer { sandbox.remove() }
        var ends: [Int32] = [0, 0]
        try #require(pipe(&ends) == 0)
        defer { close(ends[0]) }
        let errors = FileManager.default.temporaryDirectory.appendingPathComponent("fluxdeck-sim-\(UUID().uuidString.prefix(8)).err")
        defer { try? FileManager.default.removeItem(at: errors) }
        let errorFile = open(errors.path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0o600)
        try #require(errorFile >= 0)
        let child = try ChildProcess.start(try BinaryRunner.binaryURL().path, ["simulate", "--port", "0", "--key", "signal_test_key_0123456789"],
                                           environment: BinaryRunner.environment(sandbox.environment), stdout: ends[1], stderr: errorFile)
        close(ends[1])
        close(errorFile)
        defer { child.send(SIGKILL) }
        // Its banner, read as it comes, names the API's address.
        let reader = ends[0]
        let banner = await RawSocket.onThread { () -> String in
            var text = ""
            var buffer = [UInt8](repeating: 0, count: 4096)
            while !text.contains("Ctrl-C stops it.") {
                let n = buffer.withUnsafeMutableBytes { read(reader, $0.baseAddress, $0.count) }
                guard n > 0 else { break }
                text += String(decoding: buffer[..<n], as: UTF8.self)
            }
            return text
        }
        let line = try #require(banner.split(separator: "\n").first { $0.contains("export BFL_API_ENDPOINT=") }, "\(banner)")
        let api = String(line.split(separator: "=").last ?? "")
        let port = try #require(Int(api.split(separator: ":").last ?? ""))
        var environment = sandbox.environment
        environment["BFL_API_KEY"] = "signal_test_key_0123456789"
        let credits = try await BinaryRunner.run(["credits", "--endpoint", api], environment: environment)
        #expect(credits.status == 0 && credits.stdout.contains("1000"), "\(credits.stderr)")
        child.send(number)
        #expect(await child.wait(within: 20) == 0)
        #expect(try String(contentsOf: errors, encoding: .utf8).contains("simulator stopped"))
        // Nothing listens there any more.
        #expect(RawSocket(port: port) == nil, "the API port still accepts connections")
    }
}
