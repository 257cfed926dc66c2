// swift-tools-version: 6.1
import PackageDescription

/// Settings shared by every target of ours (the same upcoming features Hummingbird enables).
let swiftSettings: [SwiftSetting] = [
    .enableUpcomingFeature("ExistentialAny"),
    .enableUpcomingFeature("MemberImportVisibility"),
    .enableUpcomingFeature("InternalImportsByDefault"),
]

let package = Package(
    name: "fluxdeck",
    platforms: [.macOS(.v15)],
    products: [
        .executable(name: "fluxdeck", targets: ["fluxdeck"]),
        .executable(name: "fluxdeck-bench", targets: ["fluxdeck-bench"]),
        .library(name: "BFL", targets: ["BFL"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.8.2"),
        .package(url: "https://github.com/swift-server/async-http-client", from: "1.37.0"),
        .package(url: "https://github.com/apple/swift-nio", from: "2.101.2"),
        .package(url: "https://github.com/apple/swift-nio-ssl", from: "2.37.6"),
        .package(url: "https://github.com/apple/swift-nio-extras", from: "1.35.2"),
        .package(url: "https://github.com/apple/swift-nio-http2", from: "1.46.0"),
        .package(url: "https://github.com/apple/swift-crypto", from: "3.12.3"),
        .package(url: "https://github.com/apple/swift-log", from: "1.16.2"),
        .package(url: "https://github.com/apple/swift-http-types", from: "1.8.0"),
        .package(url: "https://github.com/groue/GRDB.swift", from: "7.10.0"),
        .package(url: "https://github.com/LebJe/TOMLKit", from: "0.6.0"),
        .package(url: "https://github.com/hummingbird-project/hummingbird", from: "2.28.1"),
        .package(url: "https://github.com/x-sheep/swift-property-based", from: "2.0.1"),
        .package(url: "https://github.com/HdrHistogram/hdrhistogram-swift", from: "0.2.0"),
        .package(url: "https://github.com/swiftlang/swift-subprocess", from: "1.0.2"),
        .package(url: "https://github.com/apple/swift-system", from: "1.8.1"),
    ],
    targets: [
        // The BFL API: catalog, parameters, pricing, wire types, errors, transport, client.
        .target(
            name: "BFL",
            dependencies: [
                .product(name: "AsyncHTTPClient", package: "async-http-client"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOHTTP1", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "NIOSSL", package: "swift-nio-ssl"),
                .product(name: "Crypto", package: "swift-crypto"),
            ],
            swiftSettings: swiftSettings
        ),
        // libpng and libjpeg behind a small C shim (no setjmp in Swift).
        .target(
            name: "CImaging",
            linkerSettings: [.linkedLibrary("png16"), .linkedLibrary("jpeg"), .linkedLibrary("z")]
        ),
        // Where fluxdeck's files live (the XDG base directories).
        .target(
            name: "BaseDirectories",
            swiftSettings: swiftSettings
        ),
        // Decode, encode and inspect images.
        .target(
            name: "Imaging",
            dependencies: ["CImaging", "BaseDirectories"],
            swiftSettings: swiftSettings
        ),
        // Starting and stopping a Hummingbird server (the simulator's listeners, the webhook receiver).
        .target(
            name: "HTTPListening",
            dependencies: [
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOHTTPTypes", package: "swift-nio-extras"),
                .product(name: "HummingbirdCore", package: "hummingbird"),
                .product(name: "Logging", package: "swift-log"),
            ],
            swiftSettings: swiftSettings
        ),
        // The offline BFL API on loopback.
        .target(
            name: "BFLSimulator",
            dependencies: [
                "BFL",
                "Imaging",
                "HTTPListening",
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "HTTPTypes", package: "swift-http-types"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "Crypto", package: "swift-crypto"),
            ],
            swiftSettings: swiftSettings
        ),
        // The webhook receiver: a small Hummingbird server that verifies BFL's calls.
        .target(
            name: "WebhookListener",
            dependencies: [
                "BFL",
                "HTTPListening",
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "HTTPTypes", package: "swift-http-types"),
                .product(name: "NIOCore", package: "swift-nio"),
            ],
            swiftSettings: swiftSettings
        ),
        // Foundation-free terminal values: cells, buffers and their diff, layout, styles, keys.
        .target(
            name: "TerminalCore",
            swiftSettings: swiftSettings
        ),
        // Value-type widgets that draw into a Buffer.
        .target(
            name: "Widgets",
            dependencies: ["TerminalCore"],
            swiftSettings: swiftSettings
        ),
        // TOML files read into plain values, with errors that name the line (themes, config).
        .target(
            name: "TOMLFiles",
            dependencies: [.product(name: "TOMLKit", package: "TOMLKit")],
            swiftSettings: swiftSettings
        ),
        // Semantic roles, TOML theme files, the theme catalog, resolution and colour reduction.
        .target(
            name: "Theme",
            dependencies: ["TerminalCore", "TOMLFiles", "BaseDirectories"],
            swiftSettings: swiftSettings,
            plugins: ["EmbedThemes"]
        ),
        // Builds `themes/*.toml` into the Theme module: the binary needs nothing beside it.
        .plugin(
            name: "EmbedThemes",
            capability: .buildTool(),
            dependencies: ["EmbedThemesTool"]
        ),
        .executableTarget(
            name: "EmbedThemesTool",
            path: "Plugins/EmbedThemesTool",
            swiftSettings: swiftSettings
        ),
        // The studio's state, actions, effects, keymap and reducer (no I/O, no widgets).
        .target(
            name: "Studio",
            dependencies: ["BFL", "Jobs", "Imaging", "TerminalCore"],
            swiftSettings: swiftSettings
        ),
        // Pure views of the studio: state, theme and size in, a buffer out.
        .target(
            name: "StudioViews",
            dependencies: ["Studio", "BFL", "Imaging", "Jobs", "TerminalCore", "Widgets", "Theme"],
            swiftSettings: swiftSettings
        ),
        // The studio's runtime: the driver, its inbox, the effect interpreter, tick deadlines
        // and the desktop helpers.
        .target(
            name: "StudioRuntime",
            dependencies: [
                "Studio", "StudioViews", "BFL", "Imaging", "Jobs", "TerminalCore", "Theme",
                .product(name: "Subprocess", package: "swift-subprocess"),
                .product(name: "SystemPackage", package: "swift-system"),
            ],
            swiftSettings: swiftSettings
        ),
        // ncurses behind a C shim, and the only Swift code that calls it.
        .target(
            name: "CNcursesw",
            linkerSettings: [.linkedLibrary("ncursesw")]
        ),
        .target(
            name: "NcursesBackend",
            dependencies: ["CNcursesw", "TerminalCore", "TerminalGraphics", "Imaging"],
            swiftSettings: swiftSettings
        ),
        // Real pixels: kitty, iTerm2 and sixel encoders, tmux passthrough, and the choice of
        // protocol from the environment and the terminal's answers.
        .target(
            name: "TerminalGraphics",
            dependencies: ["TerminalCore", "Imaging"],
            swiftSettings: swiftSettings
        ),
        // The shared service layer: job engine, SQLite ledger, output library.
        .target(
            name: "Jobs",
            dependencies: [
                "BFL",
                "BaseDirectories",
                "Imaging",
                .product(name: "GRDB", package: "GRDB.swift"),
            ],
            swiftSettings: swiftSettings
        ),
        // What the commands share, reachable by unit tests: configuration, `.env` trust,
        // session assembly, exit codes, batch files, submitting and reporting.
        .target(
            name: "FluxdeckApp",
            dependencies: [
                "BaseDirectories", "BFL", "BFLSimulator", "Jobs", "WebhookListener", "TOMLFiles", "TerminalCore",
                "TerminalGraphics", "Imaging", "Studio", "StudioViews", "StudioRuntime", "NcursesBackend", "Theme",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
                .product(name: "Crypto", package: "swift-crypto"),
                .product(name: "Logging", package: "swift-log"),
            ],
            swiftSettings: swiftSettings
        ),
        .executableTarget(
            name: "fluxdeck",
            dependencies: [
                "FluxdeckApp",
                "BaseDirectories",
                "BFL",
                "BFLSimulator",
                "Jobs",
                "TerminalCore",
                "NcursesBackend",
                "TerminalGraphics",
                "WebhookListener",
                "Theme",
                "TOMLFiles",
                "Widgets",
                "Imaging",
                "Studio",
                "StudioViews",
                "StudioRuntime",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
                .product(name: "Logging", package: "swift-log"),
            ],
            swiftSettings: swiftSettings
        ),
        // The benchmarks: a program of their own, not shipped in the product binary.
        .executableTarget(
            name: "fluxdeck-bench",
            dependencies: [
                "FluxdeckApp", "BFL", "BFLSimulator", "Jobs", "Imaging", "WebhookListener", "TerminalCore", "NcursesBackend",
                "TerminalGraphics", "Studio", "StudioViews", "StudioRuntime", "Theme", "Widgets",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
                .product(name: "Histogram", package: "hdrhistogram-swift"),
            ],
            swiftSettings: swiftSettings
        ),
        // Helpers shared by the test targets: a manual clock, a scripted transport, loopback
        // servers and sockets, job records and typing into the studio.
        .target(
            name: "TestSupport",
            dependencies: [
                "BFL", "Jobs", "Studio", "TerminalCore",
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOHTTP1", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
            ],
            path: "Tests/TestSupport",
            swiftSettings: swiftSettings
        ),
        .testTarget(
            name: "BFLTests",
            dependencies: [
                "BFL", "TestSupport",
                .product(name: "PropertyBased", package: "swift-property-based"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "NIOSSL", package: "swift-nio-ssl"),
                .product(name: "NIOHTTP1", package: "swift-nio"),
                .product(name: "NIOHTTP2", package: "swift-nio-http2"),
            ],
            swiftSettings: swiftSettings
        ),
        .testTarget(
            name: "ImagingTests",
            dependencies: ["Imaging"],
            swiftSettings: swiftSettings
        ),
        .testTarget(
            name: "SimulatorTests",
            dependencies: ["BFLSimulator", "BFL", "Imaging", "TestSupport", "WebhookListener", "HTTPListening"],
            swiftSettings: swiftSettings
        ),
        .testTarget(
            name: "TerminalCoreTests",
            dependencies: ["TerminalCore", "NcursesBackend", "TerminalGraphics", "Imaging"],
            swiftSettings: swiftSettings
        ),
        .testTarget(
            name: "WidgetsTests",
            dependencies: ["Widgets", "TerminalCore"],
            swiftSettings: swiftSettings
        ),
        .testTarget(
            name: "ThemeTests",
            dependencies: ["Theme", "TOMLFiles", "TerminalCore", .product(name: "PropertyBased", package: "swift-property-based")],
            swiftSettings: swiftSettings
        ),
        .testTarget(
            name: "StudioTests",
            dependencies: ["Studio", "StudioViews", "StudioRuntime", "BFL", "BFLSimulator", "Imaging", "Jobs", "TerminalCore", "Theme", "Widgets", "TestSupport"],
            exclude: ["Snapshots"],
            swiftSettings: swiftSettings
        ),
        .testTarget(
            name: "JobsTests",
            dependencies: ["Jobs", "BFL", "BFLSimulator", "Imaging", "TestSupport", .product(name: "GRDB", package: "GRDB.swift")],
            exclude: ["Fixtures"],
            swiftSettings: swiftSettings
        ),
        .testTarget(
            name: "FluxdeckAppTests",
            dependencies: ["FluxdeckApp", "BFL", "Jobs", "TOMLFiles", "TestSupport", .product(name: "Logging", package: "swift-log")],
            swiftSettings: swiftSettings
        ),
        .testTarget(
            name: "EndToEndTests",
            dependencies: ["fluxdeck", "BFLSimulator", "BFL", "Jobs", "Studio", "TestSupport"],
            swiftSettings: swiftSettings
        ),
    ]
)
