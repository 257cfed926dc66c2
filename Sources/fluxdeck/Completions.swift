import ArgumentParser
import BFL
import Foundation
import Jobs
import Theme

/// What the shell completes, from the same lists the commands check against.
enum Completions {
    static let models = CompletionKind.list(Catalog.all.map(\.id))
    static let formats = CompletionKind.list(OutputFormat.allCases.map(\.rawValue))
    static let statuses = CompletionKind.list(JobPhase.allCases.map(\.rawValue))
    /// Theme names, the user's too: asked of the binary when the shell completes.
    static let themes = CompletionKind.custom(themeNames)

    @Sendable static func themeNames(_ words: [String], _ index: Int, _ prefix: String) -> [String] {
        ThemeCatalog(userDirectory: ThemeCatalog.userDirectory(environment: ProcessInfo.processInfo.environment)).entries().map(\.name)
    }
}
