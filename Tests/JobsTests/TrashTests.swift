import Foundation
import Jobs
import Testing

/// Deleting a paid image moves it to the freedesktop Trash, from where it can be restored.
@Suite("The freedesktop Trash")
struct TrashTests {
    @Test("image, sidecar and mask go to Trash/files with a .trashinfo each (where it was, when); names never collide; restoring is a move back")
    func putAndRestore() throws {
        let root = FileManager.default.temporaryDirectory.appendingPathComponent("fluxdeck-trash-\(UUID().uuidString)")
        defer { try? FileManager.default.removeItem(at: root) }
        let out = root.appendingPathComponent("out dir")
        try FileManager.default.createDirectory(at: out, withIntermediateDirectories: true)
        let trash = Trash(directory: root.appendingPathComponent("data/Trash"))
        let image = out.appendingPathComponent("a kite.jpg"), sidecar = out.appendingPathComponent("a kite.json")
        let mask = out.appendingPathComponent("a kite.mask.png")
        try Data([0xFF, 0xD8, 0xFF, 1]).write(to: image)
        try Data("{}".utf8).write(to: sidecar)
        try Data([0x89, 0x50]).write(to: mask)
        let when = Date(timeIntervalSince1970: 1_795_000_000)
        try OutputLibrary(directory: out).delete(image: image.path, sidecar: sidecar.path, trash: trash)
        #expect(!FileManager.default.fileExists(atPath: image.path) && !FileManager.default.fileExists(atPath: sidecar.path))
        // A Fill job's mask goes with its image.
        #expect(!FileManager.default.fileExists(atPath: mask.path))
        #expect(FileManager.default.fileExists(atPath: trash.directory.appendingPathComponent("files/a kite.mask.png").path))
        let trashed = trash.directory.appendingPathComponent("files/a kite.jpg")
        #expect(try Data(contentsOf: trashed) == Data([0xFF, 0xD8, 0xFF, 1]))
        #expect(FileManager.default.fileExists(atPath: trash.directory.appendingPathComponent("files/a kite.json").path))
        let info = try String(contentsOf: trash.directory.appendingPathComponent("info/a kite.jpg.trashinfo"), encoding: .utf8)
        #expect(info.hasPrefix("[Trash Info]\nPath=") && info.contains("a%20kite.jpg") && info.contains("DeletionDate="), "\(info)")
        // A second image of the same name: its own entry.
        try Data([2]).write(to: image)
        let second = try trash.put(image.path, now: when)
        #expect(second.lastPathComponent == "a kite.2.jpg")
        #expect(try String(contentsOf: trash.directory.appendingPathComponent("info/a kite.2.jpg.trashinfo"), encoding: .utf8)
            .contains("DeletionDate=") )
        // Restoring, as a file manager does: the file moves back to the Path it names.
        try FileManager.default.moveItem(at: trashed, to: image.appendingPathExtension("restored"))
        #expect(FileManager.default.fileExists(atPath: image.appendingPathExtension("restored").path))
        // Without a Trash, deletion is for good (engines the tests build themselves).
        try OutputLibrary(directory: out).delete(image: image.appendingPathExtension("restored").path, sidecar: nil)
        #expect(!FileManager.default.fileExists(atPath: image.appendingPathExtension("restored").path))
    }

    @Test("the home Trash is $XDG_DATA_HOME/Trash, else ~/.local/share/Trash")
    func home() {
        #expect(Trash.home(environment: ["XDG_DATA_HOME": "/x/data", "HOME": "/h"]).directory.path == "/x/data/Trash")
        #expect(Trash.home(environment: ["HOME": "/h"]).directory.path == "/h/.local/share/Trash")
    }
}
