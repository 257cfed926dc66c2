import Foundation
@testable import StudioRuntime
import Testing

#if canImport(Glibc)
import Glibc
#endif

/// The desktop helpers through swift-subprocess, with fake helpers on PATH.
@Suite("Desktop helpers")
struct DesktopSystemTests {
    let folder: URL

    init() throws {
        // As the binary does at start: a helper that exits without reading is an EPIPE, not
        // the end of the process.
        signal(SIGPIPE, SIG_IGN)
        folder = FileManager.default.temporaryDirectory.appendingPathComponent("fluxdeck-helpers-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
    }

    /// Writes an executable helper through a close-on-exec descriptor: a child spawned by
    /// another test meanwhile must not inherit it open for writing, or running the helper
    /// fails with ETXTBSY.
    func helper(_ name: String, _ script: String) throws {
        let file = folder.appendingPathComponent(name)
        let descriptor = Glibc.open(file.path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0o755)
        guard descriptor >= 0 else { throw POSIXError(.EACCES) }
        defer { close(descriptor) }
        let bytes = Array("#!/bin/sh\n\(script)\n".utf8)
        let written = bytes.withUnsafeBytes { Glibc.write(descriptor, $0.baseAddress, $0.count) }
        guard written == bytes.count else { throw POSIXError(.EIO) }
    }

    /// The first line written to `fifo`, waiting at most 10 s (the helper writes it).
    func firstLine(of fifo: String) -> String? {
        let descriptor = Glibc.open(fifo, O_RDWR | O_NONBLOCK | O_CLOEXEC)
        guard descriptor >= 0 else { return nil }
        defer { close(descriptor) }
        var text = ""
        var waits = [pollfd(fd: descriptor, events: Int16(POLLIN), revents: 0)]
        while !text.contains("\n"), poll(&waits, 1, 10_000) > 0 {
            var byte: UInt8 = 0
            while read(descriptor, &byte, 1) == 1 { text.append(Character(UnicodeScalar(byte))) }
        }
        return text.split(separator: "\n").first.map(String.init)
    }

    @Test("open starts xdg-open with the file, without the API key in its environment, and does not wait for it")
    func open() async throws {
        defer { try? FileManager.default.removeItem(at: folder) }
        let fifo = folder.appendingPathComponent("said").path
        #expect(mkfifo(fifo, 0o600) == 0)
        // The viewer stays open for a while: open returns at once all the same.
        try helper("xdg-open", "printf '%s key=%s pid=%s\\n' \"$1\" \"${BFL_API_KEY-unset}\" \"$$\" > '\(fifo)'; exec /bin/sleep 30")
        let image = folder.appendingPathComponent("a picture.jpg")
        try Data([0xFF]).write(to: image)
        let system = DesktopSystem(environment: ["PATH": folder.path, "BFL_API_KEY": "bfl_secret"])
        let outcome = await system.open(path: image.path)
        #expect(outcome.text == "opened a picture.jpg" && !outcome.isError)
        let said = try #require(firstLine(of: fifo))
        #expect(said.hasPrefix("\(image.path) key=unset pid="))
        // The viewer is still running (open did not wait for it); the test ends it.
        let pid = try #require(Int32(said.split(separator: "=").last ?? ""))
        #expect(Glibc.kill(pid, 0) == 0)
        Glibc.kill(pid, SIGKILL)
        let gone = await system.open(path: folder.appendingPathComponent("missing.jpg").path)
        #expect(gone.isError && gone.text.hasPrefix("the file is gone"))
        let none = await DesktopSystem(environment: ["PATH": "/nonexistent"]).open(path: image.path)
        #expect(none.isError && none.text.hasPrefix("no xdg-open on this machine"))
    }

    @Test("copy hands the text to the first clipboard tool that takes it; a failing or hanging one is passed over")
    func copy() async throws {
        defer { try? FileManager.default.removeItem(at: folder) }
        let out = folder.appendingPathComponent("clipboard").path
        try helper("wl-copy", "exit 1")
        try helper("xclip", "exec /bin/sleep 120")
        try helper("xsel", "/bin/cat > '\(out)'")
        // The limit is far above a helper's start on a loaded machine (2 s was not, in a full
        // CI run) and far below the hanging one's sleep.
        let system = DesktopSystem(environment: ["PATH": folder.path, "DISPLAY": ":9", "WAYLAND_DISPLAY": "w"], helperLimit: .seconds(15))
        let outcome = await system.copy("/tmp/some image.png")
        #expect(outcome.text == "copied the path (xsel)" && !outcome.isError, "\(outcome)")
        #expect(try String(contentsOfFile: out, encoding: .utf8) == "/tmp/some image.png")
        let launch = await DesktopSystem.launch(folder.appendingPathComponent("xclip").path, [], input: nil, environment: [:], limit: .milliseconds(100))
        #expect(launch == .tooSlow)
        let failed = await DesktopSystem.launch(folder.appendingPathComponent("wl-copy").path, [], input: nil, environment: [:], limit: .seconds(10))
        #expect(failed == .exited(1))
    }
}
