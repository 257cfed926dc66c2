import Foundation
import PackagePlugin

/// Embeds the shipped themes (`themes/*.toml` at the top of the package) into the Theme module
/// as a generated Swift source, so a binary needs no resource bundle beside it.
@main
struct EmbedThemes: BuildToolPlugin {
    func createBuildCommands(context: PluginContext, target: any Target) throws -> [Command] {
        let folder = context.package.directoryURL.appendingPathComponent("themes")
        let files = try FileManager.default.contentsOfDirectory(at: folder, includingPropertiesForKeys: nil)
            .filter { $0.pathExtension == "toml" }
            .sorted { $0.lastPathComponent < $1.lastPathComponent }
        let output = context.pluginWorkDirectoryURL.appendingPathComponent("ShippedThemes.swift")
        return [
            .buildCommand(
                displayName: "Embedding \(files.count) shipped themes",
                executable: try context.tool(named: "EmbedThemesTool").url,
                arguments: [output.path] + files.map(\.path),
                inputFiles: files,
                outputFiles: [output]),
        ]
    }
}
