public import BFL
import Crypto
public import Foundation

/// A webhook POST the simulator is about to send.
public struct WebhookDelivery: Sendable {
    public var taskID: String
    public var url: URL
    public var headers: [HeaderField]
    public var body: [UInt8]
    /// 0 for the first try, then 1, 2, 3.
    public var attempt: Int
}

/// What happened to one webhook attempt.
public struct WebhookAttempt: Sendable, Hashable {
    public var taskID: String
    public var attempt: Int
    /// The receiver's HTTP status, or nil when it could not be reached or was not tried.
    public var status: Int?
    public var note: String?
}

/// A webhook waiting for its time.
struct PendingWebhook: Sendable {
    var taskID: String
    var dueAt: Duration
    var attempt: Int
}

extension SimulatorCore {
    /// Retry delays after a failed attempt (scaled by the time factor).
    static let webhookRetryDelays: [Duration] = [.seconds(1), .seconds(5), .seconds(30)]

    func scheduleWebhook(taskID: String, at dueAt: Duration, attempt: Int) {
        pendingWebhooks.append(PendingWebhook(taskID: taskID, dueAt: dueAt, attempt: attempt))
        webhookSignal.yield()
    }

    /// Whether webhooks are waiting (the dispatcher checks back soon while this is true).
    public var hasPendingWebhooks: Bool { !pendingWebhooks.isEmpty }

    /// Every webhook attempt so far.
    public var webhookAttempts: [WebhookAttempt] { webhookLog }

    /// Waits until at least `count` webhook attempts are recorded; returns them all. After
    /// `limit` of real time it returns what there is (a safety net for tests).
    public func webhookAttempts(atLeast count: Int, limit: Duration = .seconds(30)) async -> [WebhookAttempt] {
        if webhookLog.count >= count { return webhookLog }
        return await wait(in: webhookWaiters, count: count, limit: limit) { self.webhookLog }
    }

    func recordWebhookAttempt(_ attempt: WebhookAttempt) {
        webhookLog.append(attempt)
        webhookWaiters.resume(reached: webhookLog.count, with: webhookLog)
    }

    /// The webhooks whose time has come, with their bodies; removes them from the queue.
    /// Only loopback receivers are called: the simulator never sends traffic off the machine.
    public func takeDueWebhooks() -> [WebhookDelivery] {
        let current = now()
        let due = pendingWebhooks.filter { $0.dueAt <= current }
        pendingWebhooks.removeAll { $0.dueAt <= current }
        return due.compactMap { pending -> WebhookDelivery? in
            guard var task = tasks[pending.taskID], let target = task.webhook, let finishesAt = task.finishesAt else { return nil }
            guard let url = URL(string: target.url), let host = url.host, KeyPolicy.isLoopback(host),
                  ["http", "https"].contains(url.scheme?.lowercased() ?? "")
            else {
                recordWebhookAttempt(WebhookAttempt(taskID: task.id, attempt: pending.attempt, status: nil,
                                                    note: "not sent: the simulator only calls loopback webhook URLs"))
                return nil
            }
            // The end state, as a poll at the finish would see it (past any "Paused" polls).
            var settled = task
            settled.polls = Int.max
            let phase = settled.phase(at: finishesAt, reasoningPhase: false, retention: options.retention)
            if phase.isFailure {
                refundIfAsked(&task)
                tasks[task.id] = task
            }
            let body = webhookBody(task, phase: phase)
            var headers = [HeaderField("Content-Type", "application/json"), HeaderField("User-Agent", "fluxdeck-simulator")]
            if let real = target.secret, !options.faults.webhookUnsigned {
                // A forged call knows the scheme, not the secret.
                let secret = options.faults.webhookForged ? "forged-" + real : real
                headers.append(HeaderField("X-Webhook-Secret", secret))
                if options.webhookSignature || options.faults.webhookForged {
                    let mac = HMAC<SHA256>.authenticationCode(for: body, using: SymmetricKey(data: Data(secret.utf8)))
                    headers.append(HeaderField("X-BFL-Signature", "sha256=" + mac.map { String(format: "%02x", $0) }.joined()))
                }
            }
            return WebhookDelivery(taskID: task.id, url: url, headers: headers, body: body, attempt: pending.attempt)
        }
    }

    /// Records an attempt; a failed one is tried again after 1, 5 and 30 s (× time factor).
    public func webhookFinished(_ delivery: WebhookDelivery, status: Int?, note: String? = nil) {
        recordWebhookAttempt(WebhookAttempt(taskID: delivery.taskID, attempt: delivery.attempt, status: status, note: note))
        let succeeded = status.map { (200...299).contains($0) } ?? false
        guard !succeeded, delivery.attempt < Self.webhookRetryDelays.count else { return }
        let delay = Self.webhookRetryDelays[delivery.attempt] * options.timeFactor
        scheduleWebhook(taskID: delivery.taskID, at: now() + delay, attempt: delivery.attempt + 1)
    }

    private func webhookBody(_ task: SimTask, phase: Phase) -> [UInt8] {
        let ready = phase == .ready
        let message: String? = switch phase {
        case .failed(_, let text), .failedAs422(let text): text
        default: nil
        }
        var payload: [String: JSONValue]
        switch options.webhookShape {
        case .a:
            payload = ["task_id": .string(task.id), "status": .string(ready ? "SUCCESS" : "FAILED"), "progress": .number(1)]
            if ready { payload["result"] = result(of: task) }
        case .b:
            payload = ["id": .string(task.id), "status": .string(ready ? "Ready" : "Error"),
                       "timestamp": .number(now().seconds)]
            if ready, case .object(let full) = result(of: task) {
                payload["result"] = .object(full.filter { ["sample", "prompt", "seed"].contains($0.key) })
            }
            if let message { payload["message"] = .string(message) }
        }
        if let message { payload["error"] = .string(message) }
        return SimResponse.json(200, .object(payload)).body
    }
}
