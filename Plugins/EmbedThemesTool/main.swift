import Foundation

// Writes a Swift source holding each theme file given as a raw string literal.
// Usage: EmbedThemesTool OUTPUT.swift THEME.toml...

/// A raw string delimiter no run of `#` after a quote in `text` can close.
func hashes(for text: String) -> String {
    var longest = 0, run = 0, afterQuote = false
    for character in text {
        if character == "#", afterQuote {
            run += 1
            longest = max(longest, run)
        } else {
            afterQuote = character == "\""
            run = 0
        }
    }
    return String(repeating: "#", count: longest + 1)
}

let arguments = CommandLine.arguments.dropFirst()
guard let output = arguments.first else {
    FileHandle.standardError.write(Data("usage: EmbedThemesTool OUTPUT.swift THEME.toml...\n".utf8))
    exit(2)
}
var source = """
// Generated from themes/ by the EmbedThemes build plugin. Do not edit: edit themes/ instead.

/// The shipped themes, by name (the file name without .toml), in name order.
let embeddedThemes: [(name: String, text: String)] = [

"""
for path in arguments.dropFirst() {
    let url = URL(fileURLWithPath: path)
    let name = url.deletingPathExtension().lastPathComponent
    guard let text = try? String(contentsOf: url, encoding: .utf8) else {
        FileHandle.standardError.write(Data("EmbedThemesTool: cannot read \(path) as UTF-8\n".utf8))
        exit(1)
    }
    let h = hashes(for: text)
    source += "    (\(String(reflecting: name)), \(h)\"\"\"\n\(text)\n\"\"\"\(h)),\n"
}
source += "]\n"
do {
    try source.write(toFile: output, atomically: true, encoding: .utf8)
} catch {
    FileHandle.standardError.write(Data("EmbedThemesTool: cannot write \(output): \(error)\n".utf8))
    exit(1)
}
