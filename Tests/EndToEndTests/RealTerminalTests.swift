import Foundation
import Imaging
import Testing
import TestSupport

#if canImport(Glibc)
import Glibc
#endif

/// fluxdeck's pictures as a real terminal draws them: xterm emulating a VT340 (sixel) on a
/// virtual X display, its screen read back with xwd and compared with the image.
@Suite("A real terminal draws the pictures", .timeLimit(.minutes(2)))
struct RealTerminalTests {
    static let tools = ["/usr/bin/Xvfb", "/usr/bin/xterm", "/usr/bin/xwd"]
    static var available: Bool { tools.allSatisfy { FileManager.default.isExecutableFile(atPath: $0) } }
    /// Keys reach a terminal on the display through xdotool.
    static var canPress: Bool { FileManager.default.isExecutableFile(atPath: "/usr/bin/xdotool") }

    /// An X screenshot (xwd's ZPixmap, 32 bits a pixel, as Xvfb writes it) as RGB.
    struct Screenshot {
        var width = 0, height = 0
        var pixels: [UInt8] = []

        init(xwd bytes: [UInt8]) throws {
            func field(_ n: Int) -> Int { (0..<4).reduce(0) { $0 << 8 | Int(bytes[n * 4 + $1]) } }
            guard bytes.count > 100 else { throw CocoaError(.fileReadCorruptFile) }
            let headerSize = field(0), width = field(4), height = field(5), byteOrder = field(7)
            let bitsPerPixel = field(11), bytesPerLine = field(12), colours = field(19)
            let start = headerSize + colours * 12
            // 32 bits a pixel, or 24 packed in 3 bytes (what xwd writes once a GL client such
            // as kitty is on the display).
            let step = bitsPerPixel / 8
            guard width > 0, bitsPerPixel == 32 || bitsPerPixel == 24, bytesPerLine >= width * step,
                  bytes.count >= start + bytesPerLine * height else { throw CocoaError(.fileReadCorruptFile) }
            self.width = width
            self.height = height
            pixels.reserveCapacity(width * height * 3)
            for y in 0..<height {
                for x in 0..<width {
                    let p = start + y * bytesPerLine + x * step
                    // LSBFirst: blue, green, red (, pad); MSBFirst: (pad,) red, green, blue.
                    let pad = step - 3
                    pixels += byteOrder == 0 ? [bytes[p + 2], bytes[p + 1], bytes[p]] : [bytes[p + pad], bytes[p + pad + 1], bytes[p + pad + 2]]
                }
            }
        }

        func pixel(_ x: Int, _ y: Int) -> (Int, Int, Int) {
            let i = (y * width + x) * 3
            return (Int(pixels[i]), Int(pixels[i + 1]), Int(pixels[i + 2]))
        }
    }

    static func near(_ a: (Int, Int, Int), _ b: (Int, Int, Int), within tolerance: Int) -> Bool {
        abs(a.0 - b.0) <= tolerance && abs(a.1 - b.1) <= tolerance && abs(a.2 - b.2) <= tolerance
    }

    /// A virtual X display (Xvfb), with the number it took.
    struct Display {
        let name: String
        let server: ChildProcess

        static func start() async throws -> Display {
            // Xvfb names the number it took on its standard output.
            var ends: [Int32] = [0, 0]
            try #require(pipe(&ends) == 0)
            let server = try ChildProcess.start("/usr/bin/Xvfb", ["-displayfd", "1", "-screen", "0", "1280x900x24", "-nolisten", "tcp"],
                                                environment: [:], stdout: ends[1])
            close(ends[1])
            let reader = ends[0]
            let number = await RawSocket.onThread { () -> String in
                var text = ""
                var byte: UInt8 = 0
                while read(reader, &byte, 1) == 1, byte != 10 { text.append(Character(UnicodeScalar(byte))) }
                return text
            }
            close(reader)
            guard let display = Int(number) else {
                server.send(SIGTERM)
                _ = server.waitBlocking()
                throw CocoaError(.featureUnsupported, userInfo: [NSLocalizedDescriptionKey: "Xvfb gave no display number"])
            }
            return Display(name: ":\(display)", server: server)
        }

        func stop() {
            server.send(SIGTERM)
            _ = server.waitBlocking()
        }

        /// Presses `keys` (xdotool's names) as a keyboard would: XTEST events, which xterm
        /// takes as real ones (it ignores events other clients send unless told to accept them).
        func press(_ keys: String...) async throws {
            // With no window manager, keys go to the window under the pointer.
            _ = try await ChildProcess.run("/usr/bin/xdotool", ["mousemove", "200", "200"], environment: ["DISPLAY": name], deadline: .seconds(10))
            let pressed = try await ChildProcess.run("/usr/bin/xdotool", ["key", "--delay", "80"] + keys, environment: ["DISPLAY": name], deadline: .seconds(10))
            try #require(pressed.status == 0, "xdotool: \(pressed.stderr)")
        }
    }

    /// A studio on `display` in `terminal` (its path and arguments, the studio's command line
    /// last), reporting its frames on a FIFO.
    struct Studio {
        let terminal: ChildProcess
        let frames: TerminalSmokeTests.Lines

        static func start(in sandbox: Sandbox, on display: Display, terminal: String, _ arguments: [String], studio: [String]) throws -> Studio {
            let fifo = sandbox.root.appendingPathComponent("frames-\(UUID().uuidString.prefix(6))").path
            try #require(mkfifo(fifo, 0o600) == 0)
            let descriptor = open(fifo, O_RDWR | O_CLOEXEC)
            try #require(descriptor >= 0)
            var environment = BinaryRunner.environment(sandbox.environment)
            environment["DISPLAY"] = display.name
            // Colours on: a picture in shades (NO_COLOR's) would not be the image's colours.
            environment.removeValue(forKey: "NO_COLOR")
            let binary = try BinaryRunner.binaryURL().path
            let process = try ChildProcess.start(terminal, arguments + [binary] + studio + ["--notify", fifo], environment: environment)
            return Studio(terminal: process, frames: TerminalSmokeTests.Lines(FileHandle(fileDescriptor: descriptor, closeOnDealloc: true)))
        }

        func stop() {
            terminal.send(SIGKILL)
            _ = terminal.waitBlocking()
        }

        /// Reads frames until one contains `text` (nil when none does within `frames`).
        func frame(containing text: String, within count: Int = 60) async -> String? {
            for _ in 0..<count {
                guard let line = await frames.next() else { return nil }
                if line.contains(text) { return line }
            }
            return nil
        }

        /// Frame by frame, until the screen holds the picture: a box at least `minimum` pixels
        /// wide where at least `matching` of 36 samples are the image's colours (a picture
        /// still being painted is looked at again). Returns it with its screenshot.
        func picture(of image: RGBImage, on display: Display, minimum: Int = 60, matching: Int = 30,
                     frames count: Int = 30) async throws -> (box: Box, shot: Screenshot)? {
            for _ in 0..<count {
                // The terminal paints what it read on its own time: a few screenshots a frame
                // (each takes xwd a tenth of a second) give it that time.
                for _ in 0..<5 {
                    let shot = try Screenshot(xwd: try await RealTerminalTests.screenshot(display.name))
                    if let box = RealTerminalTests.pictureBox(in: shot, like: image, matching: matching), box.width >= minimum { return (box, shot) }
                }
                guard await frames.next() != nil else { break }
            }
            return nil
        }
    }

    typealias Box = (x: Int, y: Int, width: Int, height: Int)

    /// A simulator image made by the binary, decoded.
    static func madeImage(in sandbox: Sandbox, prompt: String) async throws -> RGBImage {
        let made = try await BinaryRunner.run([
            "generate", "--simulator", "--sim-time-scale", "0.02", "--model", "flux-2-pro", "--prompt", prompt,
            "--width", "512", "--height", "512", "--output-dir", sandbox.output.path,
        ], environment: sandbox.environment)
        #expect(made.status == 0, "\(made.stderr)")
        let file = try #require(sandbox.files().first { $0.hasSuffix(".jpg") })
        return try ImageCodec.decode(Array(try Data(contentsOf: sandbox.output.appendingPathComponent(file))))
    }

    /// How many of 36 samples across `box` match the image at the same relative places.
    static func matchingSamples(_ box: Box, in shot: Screenshot, of image: RGBImage) -> Int {
        var matching = 0
        for row in 0..<6 {
            for column in 0..<6 {
                let fx = (Double(column) + 0.5) / 6, fy = (Double(row) + 0.5) / 6
                let expected = image.pixel(x: Int(fx * Double(image.width)), y: Int(fy * Double(image.height)))
                let seen = shot.pixel(box.x + Int(fx * Double(box.width)), box.y + Int(fy * Double(box.height)))
                if near((Int(expected.0), Int(expected.1), Int(expected.2)), seen, within: 48) { matching += 1 }
            }
        }
        return matching
    }

    /// Light (text) pixels in the `rows` of `shot` between columns `columns`.
    static func lightPixels(in shot: Screenshot, rows: Range<Int>, columns: Range<Int>) -> Int {
        rows.clamped(to: 0..<shot.height).reduce(0) { count, y in
            count + columns.clamped(to: 0..<shot.width).filter { x in let p = shot.pixel(x, y); return p.0 > 180 && p.1 > 180 && p.2 > 180 }.count
        }
    }

    static let xterm = ["-ti", "vt340", "-xrm", "XTerm*decTerminalID: vt340", "-xrm", "XTerm*numColorRegisters: 256",
                        "-geometry", "120x40+0+0", "-fa", "Mono", "-fs", "10", "-bg", "black", "-fg", "white",
                        "-e", "env", "TERM=xterm-256color"]

    /// A simulator image of `prompt`, and the studio showing it in xterm (a VT340, sixel) on a
    /// display of its own; the caller stops both.
    static func sixelStudio(in sandbox: Sandbox, prompt: String) async throws -> (RGBImage, Display, Studio) {
        let image = try await madeImage(in: sandbox, prompt: prompt)
        let display = try await Display.start()
        do {
            let studio = try Studio.start(in: sandbox, on: display, terminal: "/usr/bin/xterm", xterm,
                                          studio: ["--simulator", "--graphics", "sixel", "--output-dir", sandbox.output.path])
            return (image, display, studio)
        } catch {
            display.stop()
            throw error
        }
    }

    @Test("xterm as a VT340: the Outputs preview is drawn in sixel with the image's colours where the image is, and the text beside it stays",
          .enabled(if: RealTerminalTests.available))
    func sixelInXterm() async throws {
        let sandbox = try Sandbox()
        defer { sandbox.remove() }
        let (image, display, studio) = try await Self.sixelStudio(in: sandbox, prompt: "a red lantern")
        defer { display.stop() }
        defer { studio.stop() }
        // 30 of 36 samples across a box match the image at the same relative places.
        let (box, shot) = try #require(try await studio.picture(of: image, on: display), "no part of the screen shows the image")
        // Beside it, the Outputs row's text is still drawn: light pixels left of the picture.
        let light = Self.lightPixels(in: shot, rows: box.y..<(box.y + 20), columns: (box.x - 380)..<(box.x - 10))
        #expect(light > 40, "the text beside the picture is gone (\(light) light pixels)")
    }

    @Test("xterm as a VT340: Enter on an output opens the viewer, whose large sixel picture has the image's colours, with its caption beside it",
          .enabled(if: RealTerminalTests.available && RealTerminalTests.canPress))
    func viewerInXterm() async throws {
        let sandbox = try Sandbox()
        defer { sandbox.remove() }
        let (image, display, studio) = try await Self.sixelStudio(in: sandbox, prompt: "a blue harbour at dusk")
        defer { display.stop() }
        defer { studio.stop() }
        // First the Outputs preview, where the viewer must not leave it.
        let (preview, _) = try #require(try await studio.picture(of: image, on: display), "no preview of the image")
        try await display.press("Tab", "Tab", "Tab")
        #expect(await studio.frame(containing: "focus=outputs") != nil)
        try await display.press("Return")
        #expect(await studio.frame(containing: "mode=viewer") != nil)
        // The viewer's picture is far larger than the 192-pixel preview.
        let (box, shot) = try #require(try await studio.picture(of: image, on: display, minimum: 300), "the viewer shows no large picture of the image")
        // Nothing of the preview is left where it was (a picture that left is rubbed out;
        // erasing the line under it would leave it on xterm's screen).
        let leftOver = Self.matchingSamples(preview, in: shot, of: image)
        #expect(preview.x > box.x + box.width && leftOver < 10, "the preview is still drawn: \(leftOver) of 36 samples at \(preview)")
        // Its caption (position, prompt, seed) is text right of the picture.
        let light = Self.lightPixels(in: shot, rows: box.y..<(box.y + 200), columns: (box.x + box.width + 8)..<shot.width)
        #expect(light > 200, "no caption beside the viewer's picture (\(light) light pixels)")
    }

    static let kitty = "/usr/bin/kitty"

    /// Asks the terminal for its device attributes, waits for the answer, then runs the
    /// command that follows (python3 -c THIS COMMAND ARGUMENTS…).
    static let afterAnAnswer = """
        import os, sys, termios, tty
        saved = termios.tcgetattr(0)
        tty.setraw(0)
        os.write(1, b"\\x1b[c")
        reply = b""
        while not reply.endswith(b"c"):
            reply += os.read(0, 1)
        termios.tcsetattr(0, termios.TCSADRAIN, saved)
        os.execv(sys.argv[1], sys.argv[1:])
        """
    static var hasKitty: Bool { FileManager.default.isExecutableFile(atPath: kitty) }

    @Test("xterm tells its background: paper on a black xterm is said to be made for a light one, on a white xterm not",
          .enabled(if: RealTerminalTests.available))
    func themeOnBackground() async throws {
        let sandbox = try Sandbox()
        defer { sandbox.remove() }
        let display = try await Display.start()
        defer { display.stop() }
        let log = sandbox.root.appendingPathComponent("state/fluxdeck/fluxdeck.log").path
        // On black (the xterm the other tests use), paper is said, on screen and in the log.
        let dark = try Studio.start(in: sandbox, on: display, terminal: "/usr/bin/xterm", Self.xterm,
                                    studio: ["--simulator", "--theme", "paper", "--graphics", "blocks"])
        let said = await dark.frame(containing: "made for light backgrounds")
        dark.stop()
        #expect(said?.contains("this terminal's is dark (#000000): try --theme default, frost or mono") == true, "\(said ?? "no frame said it")")
        #expect(try String(contentsOfFile: log, encoding: .utf8).contains("terminal background: #000000 (dark)"))
        // On white, paper fits: nothing is said.
        var white = Self.xterm
        white[white.firstIndex(of: "black").map { $0 } ?? 0] = "white"
        white[white.firstIndex(of: "-fg").map { $0 + 1 } ?? 0] = "black"
        let light = try Studio.start(in: sandbox, on: display, terminal: "/usr/bin/xterm", white,
                                     studio: ["--simulator", "--theme", "paper", "--graphics", "blocks"])
        defer { light.stop() }
        let first = try #require(await light.frame(containing: "frame "))
        #expect(!first.contains("made for"), "\(first)")
        let lines = try String(contentsOfFile: log, encoding: .utf8).split(separator: "\n")
        #expect(lines.contains { $0.contains("terminal background: #ffffff (light)") }, "\(lines.suffix(6))")
        #expect(lines.filter { $0.contains("made for light backgrounds") }.count == 1, "said once, for the black xterm")
    }

    @Test("kitty on a virtual display (Mesa's software OpenGL): fluxdeck asks its version, and the picture it draws has the image's colours",
          .enabled(if: RealTerminalTests.available && RealTerminalTests.hasKitty))
    func kittyDraws() async throws {
        let sandbox = try Sandbox()
        defer { sandbox.remove() }
        let image = try await Self.madeImage(in: sandbox, prompt: "a green lighthouse")
        let display = try await Display.start()
        defer { display.stop() }
        // kitty draws with OpenGL: llvmpipe, software, on a display with no GPU.
        let studio = try Studio.start(in: sandbox, on: display, terminal: "/usr/bin/env", [
            "LIBGL_ALWAYS_SOFTWARE=1", Self.kitty, "--config", "NONE", "-o", "linux_display_server=x11",
            "-o", "initial_window_width=120c", "-o", "initial_window_height=40c", "-o", "remember_window_size=no",
            "-o", "background=#000000", "-o", "foreground=#ffffff",
            // kitty starts slowly on a software renderer, more so under a loaded test run: the
            // studio starts once kitty answers a query, so its own 300 ms wait is kitty's
            // answering time, not kitty's start.
            "/usr/bin/python3", "-c", Self.afterAnAnswer,
        ], studio: ["--simulator", "--output-dir", sandbox.output.path])
        defer { studio.stop() }
        // Blocks are coarser than pixels: 24 of 36 samples.
        _ = try #require(try await studio.picture(of: image, on: display, matching: 24), "no part of kitty's window shows the image")
        // What was chosen, and why, is in the log: kitty images where kitty draws Unicode
        // placeholders (0.28 and later), blocks on an older kitty, which would reject them.
        let log = try String(contentsOfFile: sandbox.root.appendingPathComponent("state/fluxdeck/fluxdeck.log").path, encoding: .utf8)
        let chosen = try #require(log.split(separator: "\n").first { $0.contains("pictures: ") }, "\(log)")
        #expect(chosen.contains("pictures: kitty (the terminal answered") || chosen.contains("draws no Unicode placeholders"), "\(chosen)")
    }

    static func screenshot(_ display: String) async throws -> [UInt8] {
        let file = FileManager.default.temporaryDirectory.appendingPathComponent("fluxdeck-shot-\(UUID().uuidString.prefix(8)).xwd")
        defer { try? FileManager.default.removeItem(at: file) }
        let shot = try await ChildProcess.run("/usr/bin/xwd", ["-root", "-silent", "-display", display, "-out", file.path],
                                              environment: [:], deadline: .seconds(20))
        guard shot.status == 0 else { throw CocoaError(.fileReadUnknown) }
        return Array(try Data(contentsOf: file))
    }

    /// The first box (in reading order) that starts with a run of the image's top-left colour
    /// and where at least `matching` of 36 samples are the image's colours at the same places.
    static func pictureBox(in shot: Screenshot, like image: RGBImage, matching: Int) -> Box? {
        let corner = image.pixel(x: 2, y: 2)
        let target = (Int(corner.0), Int(corner.1), Int(corner.2))
        // The first pixel (in reading order) of the corner's colour with 20 more to its right.
        for y in 0..<shot.height {
            var run = 0
            for x in 0..<shot.width {
                run = near(shot.pixel(x, y), target, within: 40) ? run + 1 : 0
                guard run == 20 else { continue }
                let left = x - 19
                // Its width: to where the terminal's black background starts again.
                var right = left
                while right + 1 < shot.width {
                    let p = shot.pixel(right + 1, y)
                    if p.0 + p.1 + p.2 < 30 { break }
                    right += 1
                }
                let width = right - left + 1
                guard width >= 60 else { continue }
                // Square image, square-ish pixels: as tall as it is wide, within the screen.
                let height = min(width, shot.height - y)
                // Something else of that colour (a badge, a row) is not the picture: the box
                // must look like the image across it.
                let box = (x: left, y: y, width: width, height: height)
                if matchingSamples(box, in: shot, of: image) >= matching { return box }
            }
        }
        return nil
    }
}
