import BFLSimulator
import Foundation
import Testing

#if canImport(Glibc)
import Glibc
#endif

/// `./.env` is trusted only when it is a regular file of the user's that others cannot write.
@Suite("The .env file", .timeLimit(.minutes(1)))
struct DotEnvTests {
    /// Runs `fluxdeck credits --endpoint <simulator>` in `folder`.
    func credits(in folder: URL, _ server: SimulatorServer, _ sandbox: Sandbox) async throws -> ChildProcess.Outcome {
        let binary = try BinaryRunner.binaryURL().path
        return try await ChildProcess.run("/bin/sh", ["-c", "cd '\(folder.path)' && exec '\(binary)' credits --endpoint \(server.apiURL)"],
                                          environment: BinaryRunner.environment(sandbox.environment), deadline: .seconds(20))
    }

    @Test("a private .env gives the key; a world-writable, foreign, linked, oversized or FIFO .env is ignored with a warning")
    func trust() async throws {
        let sandbox = try Sandbox()
        defer { sandbox.remove() }
        let server = try await SimulatorServer.start()
        defer { Task { await server.stop() } }
        let env = sandbox.root.appendingPathComponent(".env")
        try Data("export BFL_API_KEY=\"\(server.apiKey)\"\n".utf8).write(to: env)
        chmod(env.path, 0o600)
        let trusted = try await credits(in: sandbox.root, server, sandbox)
        #expect(trusted.status == 0, "\(trusted.stderr)")
        #expect(trusted.stdout.contains("credits"))

        chmod(env.path, 0o666)
        let writable = try await credits(in: sandbox.root, server, sandbox)
        #expect(writable.status == 2)
        #expect(writable.stderr.contains("ignoring .env: others may write to it"), "\(writable.stderr)")
        #expect(writable.stderr.contains("no BFL_API_KEY is set"))

        chmod(env.path, 0o600)
        if geteuid() == 0 {
            // Root can give the file away: another user's .env is not this user's key.
            chown(env.path, 65534, 65534)
            let foreign = try await credits(in: sandbox.root, server, sandbox)
            #expect(foreign.status == 2)
            #expect(foreign.stderr.contains("belongs to another user"), "\(foreign.stderr)")
        }

        try FileManager.default.removeItem(at: env)
        let real = sandbox.root.appendingPathComponent("real.env")
        try Data("BFL_API_KEY=\(server.apiKey)\n".utf8).write(to: real)
        chmod(real.path, 0o600)
        #expect(symlink(real.path, env.path) == 0)
        let linked = try await credits(in: sandbox.root, server, sandbox)
        #expect(linked.status == 2)
        #expect(linked.stderr.contains("symbolic link"), "\(linked.stderr)")

        try FileManager.default.removeItem(at: env)
        try Data(("BFL_API_KEY=\(server.apiKey)\n" + String(repeating: "#", count: 70_000)).utf8).write(to: env)
        chmod(env.path, 0o600)
        let large = try await credits(in: sandbox.root, server, sandbox)
        #expect(large.stderr.contains("larger than 64 KB"), "\(large.stderr)")

        try FileManager.default.removeItem(at: env)
        #expect(mkfifo(env.path, 0o600) == 0)
        let fifo = try await credits(in: sandbox.root, server, sandbox)
        #expect(fifo.status == 2, "a FIFO must not hang start-up")
        #expect(fifo.stderr.contains("not a regular file"), "\(fifo.stderr)")
    }
}
