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
            guard bitsPerPixel == 32, bytes.count >= start + bytesPerLine * height else { throw CocoaError(.fileReadCorruptFile) }
            self.width = width
            self.height = height
            pixels.reserveCapacity(width * height * 3)
            for y in 0..<height {
                for x in 0..<width {
                    let p = start + y * bytesPerLine + x * 4
                    // LSBFirst: blue, green, red, pad; MSBFirst: pad, red, green, blue.
                    pixels += byteOrder == 0 ? [bytes[p + 2], bytes[p + 1], bytes[p]] : [bytes[p + 1], bytes[p + 2], bytes[p + 3]]
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

    @Test("xterm as a VT340: the Outputs preview is drawn in sixel with the image's colours where the image is, and the text beside it stays",
          .enabled(if: RealTerminalTests.available))
    func sixelInXterm() async throws {
        let sandbox = try Sandbox()
        defer { sandbox.remove() }
        let made = try await BinaryRunner.run([
            "generate", "--simulator", "--sim-time-scale", "0.02", "--model", "flux-2-pro", "--prompt", "a red lantern",
            "--width", "512", "--height", "512", "--output-dir", sandbox.output.path,
        ], environment: sandbox.environment)
        #expect(made.status == 0, "\(made.stderr)")
        let file = try #require(sandbox.files().first { $0.hasSuffix(".jpg") })
        let image = try ImageCodec.decode(Array(try Data(contentsOf: sandbox.output.appendingPathComponent(file))))

        // A virtual display; Xvfb names the number it took on its standard output.
        var ends: [Int32] = [0, 0]
        try #require(pipe(&ends) == 0)
        let display = try ChildProcess.start("/usr/bin/Xvfb", ["-displayfd", "1", "-screen", "0", "1280x900x24", "-nolisten", "tcp"],
                                             environment: [:], stdout: ends[1])
        close(ends[1])
        defer {
            display.send(SIGTERM)
            _ = display.waitBlocking()
        }
        let reader = ends[0]
        let number = await RawSocket.onThread { () -> String in
            var text = ""
            var byte: UInt8 = 0
            while read(reader, &byte, 1) == 1, byte != 10 { text.append(Character(UnicodeScalar(byte))) }
            return text
        }
        close(reader)
        let screen = ":\(try #require(Int(number), "Xvfb gave no display number"))"
        let fifo = sandbox.root.appendingPathComponent("frames").path
        try #require(mkfifo(fifo, 0o600) == 0)
        let descriptor = open(fifo, O_RDWR | O_CLOEXEC)
        try #require(descriptor >= 0)
        let frames = TerminalSmokeTests.Lines(FileHandle(fileDescriptor: descriptor, closeOnDealloc: true))
        var environment = BinaryRunner.environment(sandbox.environment)
        environment["DISPLAY"] = screen
        // Colours on: a picture in shades (NO_COLOR's) would not be the image's colours.
        environment.removeValue(forKey: "NO_COLOR")
        let binary = try BinaryRunner.binaryURL().path
        let terminal = try ChildProcess.start("/usr/bin/xterm", [
            "-ti", "vt340", "-xrm", "XTerm*decTerminalID: vt340", "-xrm", "XTerm*numColorRegisters: 256",
            "-geometry", "120x40+0+0", "-fa", "Mono", "-fs", "10",
            "-e", "env", "TERM=xterm-256color", binary, "--simulator", "--graphics", "sixel", "--output-dir", sandbox.output.path,
            "--notify", fifo,
        ], environment: environment)
        defer {
            terminal.send(SIGKILL)
            _ = terminal.waitBlocking()
        }

        // Frame by frame, until the screen holds the picture (its preview is decoded after the
        // first frames): a box in the screenshot whose samples are the image's colours.
        var found: (box: (x: Int, y: Int, width: Int, height: Int), shot: Screenshot)?
        frames: for _ in 0..<30 {
            guard await frames.next() != nil else { break }
            // xterm paints what it read on its own time: a few screenshots a frame (each
            // takes xwd a tenth of a second) give it that time.
            for _ in 0..<5 {
                let shot = try Screenshot(xwd: try await Self.screenshot(screen))
                if let box = Self.pictureBox(in: shot, like: image) {
                    found = (box, shot)
                    break frames
                }
            }
        }
        let (box, shot) = try #require(found, "no part of the screen shows the image")
        // 36 samples across the box match the image at the same relative places.
        var matching = 0
        for row in 0..<6 {
            for column in 0..<6 {
                let fx = (Double(column) + 0.5) / 6, fy = (Double(row) + 0.5) / 6
                let expected = image.pixel(x: Int(fx * Double(image.width)), y: Int(fy * Double(image.height)))
                let seen = shot.pixel(box.x + Int(fx * Double(box.width)), box.y + Int(fy * Double(box.height)))
                if Self.near((Int(expected.0), Int(expected.1), Int(expected.2)), seen, within: 48) { matching += 1 }
            }
        }
        #expect(matching >= 30, "\(matching) of 36 samples match the image")
        // Beside it, the Outputs row's text is still drawn: light pixels left of the picture.
        let textRow = (box.y..<min(shot.height, box.y + 20))
        let light = textRow.reduce(0) { count, y in
            count + (max(0, box.x - 380)..<max(0, box.x - 10)).filter { x in let p = shot.pixel(x, y); return p.0 > 180 && p.1 > 180 && p.2 > 180 }.count
        }
        #expect(light > 40, "the text beside the picture is gone (\(light) light pixels)")
    }

    static func screenshot(_ display: String) async throws -> [UInt8] {
        let file = FileManager.default.temporaryDirectory.appendingPathComponent("fluxdeck-shot-\(UUID().uuidString.prefix(8)).xwd")
        defer { try? FileManager.default.removeItem(at: file) }
        let shot = try await ChildProcess.run("/usr/bin/xwd", ["-root", "-silent", "-display", display, "-out", file.path],
                                              environment: [:], deadline: .seconds(20))
        guard shot.status == 0 else { throw CocoaError(.fileReadUnknown) }
        return Array(try Data(contentsOf: file))
    }

    /// The largest box whose rows and columns are mostly the image's own colours: found from
    /// the pixels close to the image's top-left, top-right and bottom-left corners.
    static func pictureBox(in shot: Screenshot, like image: RGBImage) -> (x: Int, y: Int, width: Int, height: Int)? {
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
                return (left, y, width, height)
            }
        }
        return nil
    }
}
