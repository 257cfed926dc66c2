import Foundation
public import Synchronization
#if canImport(Glibc)
import Glibc
#endif

/// A plain TCP client on a blocking socket, for tests that must misbehave as no HTTP library
/// will (half-sent headers, a body announced and never sent). Its calls run on a thread of
/// their own, never on Swift's shared pool. Every read waits at most `timeout` seconds.
public final class RawSocket: @unchecked Sendable {
    private let fd: Int32

    /// Connects to 127.0.0.1:`port`; nil when it cannot.
    public init?(port: Int, timeout: Int = 30) {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        guard fd >= 0 else { return nil }
        var wait = timeval(tv_sec: timeout, tv_usec: 0)
        setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &wait, socklen_t(MemoryLayout<timeval>.size))
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_port = in_port_t(UInt16(port).bigEndian)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        let connected = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { connect(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
        }
        guard connected == 0 else {
            close(fd)
            return nil
        }
        self.fd = fd
    }

    deinit { close(fd) }

    /// Sends all of `text`; false when the peer has gone.
    @discardableResult
    public func send(_ text: String) -> Bool {
        let bytes = Array(text.utf8)
        var sent = 0
        while sent < bytes.count {
            let n = bytes[sent...].withUnsafeBytes { Glibc.send(fd, $0.baseAddress, $0.count, Int32(MSG_NOSIGNAL)) }
            guard n > 0 else { return false }
            sent += n
        }
        return true
    }

    /// Sends `byte` on each of `sockets` every `milliseconds`, from a thread of its own, until
    /// every peer has gone or the returned stop is called: a slow drip that never looks idle.
    public static func drip(_ byte: String, on sockets: [RawSocket], everyMilliseconds milliseconds: UInt32) -> @Sendable () -> Void {
        let stopped = Mutex(false)
        Thread {
            var open = sockets
            while !open.isEmpty, !stopped.withLock({ $0 }) {
                usleep(milliseconds * 1000)
                open = open.filter { $0.send(byte) }
            }
        }.start()
        return { stopped.withLock { $0 = true } }
    }

    /// What the peer sent until it closed the connection (nil when `timeout` passed first,
    /// or the socket failed; `lastError` says which).
    public func readToEnd() async -> String? {
        let fd = self.fd
        let (text, failure) = await Self.onThread { () -> (String?, String?) in
            var received: [UInt8] = []
            var buffer = [UInt8](repeating: 0, count: 4096)
            while true {
                let n = buffer.withUnsafeMutableBytes { recv(fd, $0.baseAddress, $0.count, 0) }
                if n == 0 { return (String(decoding: received, as: UTF8.self), nil) }
                guard n > 0 else { return (nil, String(cString: strerror(errno)) + " after \(received.count) bytes") }
                received += buffer[..<n]
            }
        }
        lastError.withLock { $0 = failure }
        return text
    }

    /// What the peer sent up to and including the blank line that ends an answer's head (nil
    /// when `timeout` passed first, or the peer closed or failed before it; `lastError` says
    /// which). The connection stays open.
    public func readHead() async -> String? {
        let fd = self.fd
        let (text, failure) = await Self.onThread { () -> (String?, String?) in
            var received: [UInt8] = []
            var byte: UInt8 = 0
            while !received.ends(with: [13, 10, 13, 10]) {
                let n = recv(fd, &byte, 1, 0)
                if n == 0 { return (nil, "closed after \(received.count) bytes") }
                guard n > 0 else { return (nil, String(cString: strerror(errno)) + " after \(received.count) bytes") }
                received.append(byte)
            }
            return (String(decoding: received, as: UTF8.self), nil)
        }
        lastError.withLock { $0 = failure }
        return text
    }

    /// Why the last `readToEnd` returned nil.
    public let lastError = Mutex<String?>(nil)

    /// A port on 127.0.0.1 that was free a moment ago (bound, read, released).
    public static func freePort() -> Int? { RefusingPort()?.port }

    /// Runs blocking `work` on a new thread and returns its result (never on Swift's pool).
    public static func onThread<T: Sendable>(_ work: @escaping @Sendable () -> T) async -> T {
        await withCheckedContinuation { continuation in
            Thread { continuation.resume(returning: work()) }.start()
        }
    }
}

/// A port on 127.0.0.1 bound by this process and never listened on: a connection to it is
/// refused for as long as this lives, and no other server can take it meanwhile.
public final class RefusingPort: @unchecked Sendable {
    public let port: Int
    private let fd: Int32

    public init?() {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        guard fd >= 0 else { return nil }
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        let bound = withUnsafeMutablePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, length) == 0 && getsockname(fd, $0, &length) == 0 }
        }
        guard bound else {
            close(fd)
            return nil
        }
        self.fd = fd
        port = Int(UInt16(bigEndian: address.sin_port))
    }

    deinit { close(fd) }
}


extension Array where Element: Equatable {
    fileprivate func ends(with suffix: [Element]) -> Bool { count >= suffix.count && Array(self[(count - suffix.count)...]) == suffix }
}
