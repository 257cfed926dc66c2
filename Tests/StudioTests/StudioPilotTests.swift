@testable import Studio
import StudioRuntime
import StudioViews
import BFL
import BFLSimulator
import Foundation
import Jobs
import TerminalCore
import Testing
import TestSupport
import Theme

/// Records what the studio asked of the desktop.
final class RecordingSystem: StudioSystem, @unchecked Sendable {
    private let lock = NSLock()
    private var calls: [String] = []
    var recorded: [String] { lock.withLock { calls } }

    func open(path: String) -> (text: String, isError: Bool) {
        lock.withLock { calls.append("open \(path)") }
        return ("opened", false)
    }

    func copy(_ text: String) -> (text: String, isError: Bool) {
        lock.withLock { calls.append("copy \(text)") }
        return ("copied", false)
    }
}

/// The studio's driver on an in-memory terminal, over an engine talking to a simulator.
@MainActor
struct PilotRig {
    let server: SimulatorServer
    let transport: HTTPClientTransport
    let directory: URL
    let store: JobStore
    let engine: JobEngine
    let backend: MemoryBackend
    let system: RecordingSystem
    let driver: StudioDriver<MemoryBackend>

    static func start(_ state: AppState, theme: Theme) async throws -> PilotRig {
        var options = SimulatorOptions()
        options.timeFactor = 0.02
        let server = try await SimulatorServer.start(options: options)
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("fluxdeck-pilot-\(UUID().uuidString)")
        let transport = HTTPClientTransport(pace: .patientForTests)
        let client = BFLClient(configuration: .init(endpoint: try #require(Endpoint(customURL: server.apiURL)), apiKey: APIKey(server.apiKey)),
                               transport: transport)
        let store = try JobStore(path: directory.appendingPathComponent("db.sqlite").path)
        let engine = JobEngine(client: client, store: store, library: OutputLibrary(directory: directory.appendingPathComponent("out")),
                               configuration: EngineConfiguration(endpointLabel: server.apiURL))
        let backend = MemoryBackend(width: 120, height: 40)
        final class Box: @unchecked Sendable { weak var driver: StudioDriver<MemoryBackend>? }
        let box = Box()
        let system = RecordingSystem()
        let inbox = Inbox { Task { @MainActor in box.driver?.drainInbox(); box.driver?.drawIfNeeded() } }
        let driver = StudioDriver(state: state, backend: backend, theme: theme, engine: engine, client: client, store: store,
                                  system: system, inbox: inbox)
        box.driver = driver
        driver.start(recentJobs: [])
        return PilotRig(server: server, transport: transport, directory: directory, store: store, engine: engine,
                        backend: backend, system: system, driver: driver)
    }

    func stop() async {
        await driver.cancelEffects()
        await engine.shutdown()
        try? await transport.shutdown()
        await server.stop()
    }

    nonisolated func removeFiles() { try? FileManager.default.removeItem(at: directory) }
}

@Suite("Studio screens and pilot", .timeLimit(.minutes(2)))
struct StudioPilotTests {
    func theme() throws -> Theme {
        try ThemeLoader().load(try #require(ThemeLoader.shippedTheme(named: "default")))
    }

    @Test("the empty studio at 80×24 and 120×40 shows every pane, the simulator label and key hints")
    func screens() throws {
        for (width, height) in [(80, 24), (120, 40)] {
            var state = AppState(modeLabel: "SIMULATOR — no credits spent")
            _ = reduce(&state, .resize(width: width, height: height))
            let (buffer, cursor) = render(state, theme: try theme(), area: Rect(width: width, height: height))
            let text = buffer.lines.joined(separator: "\n")
            for expected in ["SIMULATOR — no credits spent", "Prompt", "Model", "Cost", "Jobs", "Outputs", "No jobs yet.",
                             "Describe the image", "estimate  3 credits ($0.03)", "Tab pane", "model    FLUX.2 [pro]"] {
                #expect(text.contains(expected), "\(width)x\(height): \(expected)")
            }
            #expect(cursor.map { [$0.x, $0.y] } == [1, 2])
        }
        var tiny = AppState()
        _ = reduce(&tiny, .resize(width: 30, height: 8))
        #expect(render(tiny, theme: try theme(), area: Rect(width: 30, height: 8)).buffer.lines[0].contains("at least 40×12"))
    }

    @Test("control characters in prompts and messages never reach the screen")
    func sanitized() throws {
        var state = AppState()
        _ = reduce(&state, .submitFailed("bad \u{1B}[31mthing\u{7}"))
        let (buffer, _) = render(state, theme: try theme(), area: Rect(width: 80, height: 24))
        #expect(buffer.cells.allSatisfy { !$0.symbol.unicodeScalars.contains { $0.value < 0x20 } })
        // The message is shown, its escapes taken out.
        let shown = buffer.lines.joined(separator: "\n")
        #expect(shown.contains("bad [31mthing"), "\(shown)")
    }

    @MainActor
    @Test("pilot: type a prompt, pick a model, submit three images, see them done and saved")
    func pilot() async throws {
        let rig = try await PilotRig.start(AppState(modeLabel: "SIMULATOR — no credits spent"), theme: try theme())
        defer { rig.removeFiles() }
        let (driver, backend) = (rig.driver, rig.backend)
        for character in "a red fox in snow" { driver.send(.key(.char(character))) }
        driver.send(.key(Key(.tab)))
        driver.send(.key(Key(.left)))
        driver.send(.key(Key(.left)))
        for _ in 0..<3 { driver.send(.key(Key(.down))) }
        driver.send(.key(.char("+")))
        driver.send(.key(.char("+")))
        driver.send(.key(Key(.enter)))
        driver.drawIfNeeded()
        #expect(backend.screen.lines.joined().contains("submitting 3 × FLUX.2 [klein] 4B"))
        try #require(await driver.waitUntil { $0.outputs.count == 3 && $0.credits == "995.8" })
        driver.drawIfNeeded()
        let screen = backend.screen.lines.joined(separator: "\n")
        #expect(screen.contains("Outputs · 3"))
        #expect(screen.contains("credits 995.8"))
        // One submission is one group: a row for the three, which → opens.
        #expect(screen.contains("3 × FLUX.2 [klein] 4B · 3 done"), "\(screen)")
        #expect(Set(driver.state.jobs.map(\.groupID)).count == 1 && driver.state.jobs.first?.groupID != nil)
        driver.send(.key(Key(.tab)))
        driver.send(.key(Key(.right)))
        driver.drawIfNeeded()
        #expect(backend.screen.lines.joined(separator: "\n").components(separatedBy: "  done ").count - 1 == 3)
        for job in driver.state.outputs {
            #expect(FileManager.default.fileExists(atPath: try #require(job.outputPath)))
        }
        let idleFrames = driver.frames
        driver.drawIfNeeded()
        #expect(driver.frames == idleFrames)
        await rig.stop()
    }

    @MainActor
    @Test("pilot: an output becomes a reference of the next job, is previewed, opened, and deleted after a yes")
    func outputsPilot() async throws {
        let rig = try await PilotRig.start(AppState(modelID: "flux-2-klein-4b"), theme: try theme())
        defer { rig.removeFiles() }
        let (driver, store, system) = (rig.driver, rig.store, rig.system)
        for character in "a harbour at noon" { driver.send(.key(.char(character))) }
        driver.send(.key(Key(.enter)))
        try #require(await driver.waitUntil { $0.outputs.count == 1 })
        let first = try #require(driver.state.outputs.first)
        let firstPath = try #require(first.outputPath)

        // Use it as a reference: its header is read, the estimate counts it, the job sends it.
        driver.send(.key(Key(.backTab)))
        try #require(await driver.waitUntil { $0.previews[firstPath] != nil })
        driver.send(.key(.char("u")))
        try #require(await driver.waitUntil { $0.settings.references[0]?.size != nil })
        #expect(driver.state.settings.references[0]?.size == PixelSize(width: 1024, height: 1024))
        #expect(driver.state.estimate.credits == Credits("1.5"))
        driver.send(.key(Key(.tab)))
        driver.send(.key(Key(.enter)))
        try #require(await driver.waitUntil { $0.outputs.count == 2 })
        let second = try #require(driver.state.outputs.first)
        #expect(second.inputMP == 1)
        #expect(second.requestJSON.contains("input_image"))

        // Open, then delete the first image after confirming.
        driver.send(.key(Key(.backTab)))
        driver.send(.key(Key(.down)))
        #expect(driver.state.selectedOutput?.id == first.id)
        driver.send(.key(.char("o")))
        try #require(await driver.waitUntil { $0.message?.text == "opened" })
        #expect(system.recorded == ["open \(firstPath)"])
        driver.send(.key(.char("d")))
        driver.send(.key(.char("y")))
        try #require(await driver.waitUntil { $0.outputs.count == 1 })
        #expect(!FileManager.default.fileExists(atPath: firstPath))
        #expect(!FileManager.default.fileExists(atPath: try #require(first.sidecarPath)))
        #expect(try store.job(id: first.id)?.outputPath == nil)
        #expect(try store.history(id: first.id).last?.detail == "image deleted by the user")
        await rig.stop()
    }
}
