import Foundation

#if canImport(Glibc)
import Glibc
#endif

/// Opening files and copying text on this machine: `xdg-open` when it is installed, and the
/// first clipboard tool found (wl-copy, xclip, xsel), else the terminal's clipboard (OSC 52).
public struct DesktopSystem: StudioSystem {
    let environment: [String: String]

    public init(environment: [String: String]) {
        self.environment = environment
    }

    public func open(path: String) -> (text: String, isError: Bool) {
        guard FileManager.default.fileExists(atPath: path) else { return ("the file is gone: \(path)", true) }
        guard let opener = Self.find("xdg-open", in: environment) else {
            return ("no xdg-open on this machine; the file is \(path)", true)
        }
        guard Self.spawn(opener, [path], input: nil, environment: helperEnvironment) else { return ("xdg-open could not be started", true) }
        return ("opened \(URL(fileURLWithPath: path).lastPathComponent)", false)
    }

    public func copy(_ text: String) -> (text: String, isError: Bool) {
        let tools: [(String, [String])] = [("wl-copy", []), ("xclip", ["-selection", "clipboard"]), ("xsel", ["--clipboard", "--input"])]
        let graphical = environment["WAYLAND_DISPLAY"] != nil || environment["DISPLAY"] != nil
        if graphical {
            for (name, arguments) in tools {
                if let tool = Self.find(name, in: environment), Self.spawn(tool, arguments, input: Data(text.utf8), environment: helperEnvironment) {
                    return ("copied the path (\(name))", false)
                }
            }
        }
        // OSC 52: the terminal (and tmux with set-clipboard) puts it on the clipboard.
        let sequence = "\u{1b}]52;c;\(Data(text.utf8).base64EncodedString())\u{07}"
        let tty = Glibc.open("/dev/tty", O_WRONLY | O_CLOEXEC)
        guard tty >= 0 else { return ("no clipboard here; the path is \(text)", true) }
        defer { close(tty) }
        _ = sequence.withCString { write(tty, $0, strlen($0)) }
        return ("copied the path (terminal clipboard)", false)
    }

    /// What helpers see: this environment without the API key (an image viewer has no use
    /// for it, and its children would inherit it).
    var helperEnvironment: [String: String] {
        environment.filter { $0.key != "BFL_API_KEY" }
    }

    static func find(_ name: String, in environment: [String: String]) -> String? {
        for directory in (environment["PATH"] ?? "/usr/bin:/bin").split(separator: ":") {
            let candidate = "\(directory)/\(name)"
            if access(candidate, X_OK) == 0 { return candidate }
        }
        return nil
    }

    /// Starts a helper detached from the terminal: its output goes nowhere, `input` is written
    /// to its standard input. Its exit is not awaited (it is reaped by SIGCHLD's default).
    static func spawn(_ path: String, _ arguments: [String], input: Data?, environment: [String: String]) -> Bool {
        var ends: [Int32] = [-1, -1]
        if input != nil {
            guard pipe(&ends) == 0 else { return false }
            _ = fcntl(ends[1], F_SETFD, FD_CLOEXEC)
        }
        var actions = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&actions)
        defer { posix_spawn_file_actions_destroy(&actions) }
        if input != nil {
            posix_spawn_file_actions_adddup2(&actions, ends[0], 0)
            posix_spawn_file_actions_addclose(&actions, ends[0])
        } else {
            posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0)
        }
        posix_spawn_file_actions_addopen(&actions, 1, "/dev/null", O_WRONLY, 0)
        posix_spawn_file_actions_addopen(&actions, 2, "/dev/null", O_WRONLY, 0)
        var attributes = posix_spawnattr_t()
        posix_spawnattr_init(&attributes)
        defer { posix_spawnattr_destroy(&attributes) }
        // Its own process group, so the terminal's Ctrl-C does not reach it.
        posix_spawnattr_setpgroup(&attributes, 0)
        // The helper starts with no signal blocked and every signal at its default, whatever
        // the spawning thread had.
        var none = sigset_t()
        sigemptyset(&none)
        posix_spawnattr_setsigmask(&attributes, &none)
        var all = sigset_t()
        sigfillset(&all)
        posix_spawnattr_setsigdefault(&attributes, &all)
        posix_spawnattr_setflags(&attributes, Int16(POSIX_SPAWN_SETPGROUP | POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF))
        let argv = ([path] + arguments).map { strdup($0) } + [nil]
        let envp = environment.map { strdup("\($0.key)=\($0.value)") } + [nil]
        defer {
            argv.forEach { free($0) }
            envp.forEach { free($0) }
        }
        var pid: pid_t = 0
        let result = posix_spawn(&pid, path, &actions, &attributes, argv, envp)
        if input != nil { close(ends[0]) }
        guard result == 0 else {
            if input != nil { close(ends[1]) }
            return false
        }
        if let input {
            _ = input.withUnsafeBytes { write(ends[1], $0.baseAddress, $0.count) }
            close(ends[1])
        }
        // Reap it in the background so no zombie is left behind.
        let child = pid
        DispatchQueue.global().async {
            var status: Int32 = 0
            waitpid(child, &status, 0)
        }
        return true
    }
}
