import BFL
import Foundation
import Imaging
import Synchronization

/// A scripted BFL API behind the `Transport` protocol: submissions get ids t1, t2, …; polls
/// and submissions answer what the test's closures say; samples are a small PNG.
actor FakeAPI: Transport {
    typealias Reply = (status: Int, body: String, headers: [HeaderField])

    /// n is the 1-based number of the POST; nil means "accept".
    var onSubmit: @Sendable (_ n: Int, _ path: String) -> Reply? = { _, _ in nil }
    /// The poll reply for a task, by how many times it was polled (1-based).
    var onPoll: @Sendable (_ taskID: String, _ poll: Int) -> String = { id, _ in #"{"id":"\#(id)","status":"Pending"}"# }

    private(set) var requests: [TransportRequest] = []
    private var posts = 0
    private var polls: [String: Int] = [:]
    private var postWaiters: [(Int, CheckedContinuation<Void, Never>)] = []
    let png: [UInt8]

    init() {
        png = (try? ImageCodec.encodePNG(RGBImage(width: 8, height: 8, pixels: Array(repeating: 200, count: 192)))) ?? []
    }

    func script(submit: @escaping @Sendable (Int, String) -> Reply? = { _, _ in nil },
                poll: @escaping @Sendable (String, Int) -> String) {
        onSubmit = submit
        onPoll = poll
    }

    var postPaths: [String] {
        requests.filter { $0.method == .post }.map { $0.url.lastPathComponent }
    }

    func pollCount(_ taskID: String) -> Int { polls[taskID] ?? 0 }

    /// Waits until at least `count` POSTs have arrived, or 30 s of real time (a safety net:
    /// the test then fails on its expectations instead of hanging).
    func waitForPosts(_ count: Int) async {
        if posts >= count { return }
        let timer = Task { [weak self] in
            try await ContinuousClock().sleep(for: .seconds(30))
            await self?.releasePostWaiters()
        }
        defer { timer.cancel() }
        await withCheckedContinuation { postWaiters.append((count, $0)) }
    }

    private func releasePostWaiters() {
        let waiting = postWaiters
        postWaiters.removeAll()
        for waiter in waiting { waiter.1.resume() }
    }

    static func ready(_ id: String, seed: Int = 7, cost: Double? = nil) -> String {
        let costText = cost.map { #","cost":\#($0)"# } ?? ""
        return #"{"id":"\#(id)","status":"Ready","result":{"sample":"https://delivery-eu.bfl.ai/results/\#(id)/sample.png?sig=1","seed":\#(seed),"duration":1.5}\#(costText)}"#
    }

    func execute(_ request: TransportRequest) async throws -> TransportResponse {
        requests.append(request)
        let url = request.url
        if request.method == .post {
            posts += 1
            let n = posts
            let ready = postWaiters.filter { $0.0 <= n }
            postWaiters.removeAll { $0.0 <= n }
            for waiter in ready { waiter.1.resume() }
            if let reply = onSubmit(n, url.lastPathComponent) {
                return TransportResponse(status: reply.status, headers: reply.headers, bytes: Array(reply.body.utf8))
            }
            let id = "t\(n)"
            return TransportResponse(status: 200, bytes: Array(#"{"id":"\#(id)","polling_url":"https://api.eu2.bfl.ai/v1/get_result?id=\#(id)","cost":3}"#.utf8))
        }
        if url.path == "/v1/get_result" {
            let id = URLComponents(url: url, resolvingAgainstBaseURL: false)?.queryItems?.first { $0.name == "id" }?.value ?? ""
            polls[id, default: 0] += 1
            return TransportResponse(status: 200, bytes: Array(onPoll(id, polls[id] ?? 1).utf8))
        }
        if url.path.hasPrefix("/results/") {
            return TransportResponse(status: 200, headers: [HeaderField("Content-Type", "image/png")], bytes: png)
        }
        return TransportResponse(status: 404, bytes: Array(#"{"detail":"Not Found"}"#.utf8))
    }
}
