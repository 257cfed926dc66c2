public import BFL
import Foundation

// Webhook waits: a job sent in webhook mode waits for its verified call (a hint: one poll
// confirms it, or the call's body is the answer when BFL named no polling URL), up to its
// model's slow end; a call that comes before the wait, or after it gave up, is kept for it.

/// The calls that came and the jobs waiting for one, by task id.
struct WebhookMailbox {
    /// Jobs waiting for their call.
    private var waiting: [String: CheckedContinuation<WebhookEvent?, Never>] = [:]
    /// Calls that came before (or after) their job waited.
    private var kept: [String: WebhookEvent] = [:]

    /// Hands `event` to the job waiting for it; else keeps it when `known` (a job of this run
    /// has the task).
    mutating func deliver(_ event: WebhookEvent, known: Bool) {
        if let waiter = waiting.removeValue(forKey: event.taskID) {
            waiter.resume(returning: event)
        } else if known {
            kept[event.taskID] = event
        }
    }

    /// The call kept for `taskID`, taken.
    mutating func take(_ taskID: String) -> WebhookEvent? {
        kept.removeValue(forKey: taskID)
    }

    /// Waits on `continuation` for the call of `taskID`.
    mutating func wait(_ taskID: String, _ continuation: CheckedContinuation<WebhookEvent?, Never>) {
        waiting[taskID] = continuation
    }

    /// Ends the wait for `taskID` with no call.
    mutating func giveUp(_ taskID: String) {
        waiting.removeValue(forKey: taskID)?.resume(returning: nil)
    }

    /// Forgets the call kept for `taskID` (its job ended).
    mutating func forget(_ taskID: String) {
        kept[taskID] = nil
    }
}

extension JobEngine {
    /// A webhook call arrived for `taskID` (verified by the receiver): the job waiting for it
    /// polls now. Calls for tasks nobody waits for yet are kept until their job waits.
    public func webhookArrived(_ event: WebhookEvent) {
        webhooks.deliver(event, known: follows(taskID: event.taskID))
    }

    /// Whether a job of this run has `taskID` (the receiver refuses calls about others).
    public func follows(taskID: String) -> Bool {
        followed.values.contains { $0.record.taskID == taskID && !$0.record.phase.isFinal }
    }

    /// The webhook call for `taskID` (come before or during the wait), or nil at `limit`.
    func waitForWebhook(_ taskID: String, upTo limit: Duration) async -> WebhookEvent? {
        if let early = webhooks.take(taskID) { return early }
        let stopwatch = self.stopwatch
        return await withTaskGroup(of: WebhookEvent?.self) { group in
            group.addTask { await self.webhookSignal(taskID) }
            group.addTask {
                // A deadline, not a wait for work: cancelled when the call comes first.
                try? await stopwatch.sleep(limit)
                return nil
            }
            let first = await group.next() ?? nil
            group.cancelAll()
            if first == nil { self.webhooks.giveUp(taskID) }
            return first
        }
    }

    private func webhookSignal(_ taskID: String) async -> WebhookEvent? {
        await withCheckedContinuation { continuation in
            if let early = webhooks.take(taskID) {
                continuation.resume(returning: early)
            } else if Task.isCancelled {
                // The wait ended before this began (on the actor, so nothing can slip between).
                continuation.resume(returning: nil)
            } else {
                webhooks.wait(taskID, continuation)
            }
        }
    }

    /// The poll answer a webhook call stands for (a job without a polling URL has no other).
    static func answer(from event: WebhookEvent) -> PollResponse {
        var result = TaskResult(sample: event.sample, seed: event.seed)
        result.error = event.error
        return PollResponse(id: event.taskID, status: event.status, result: result)
    }

    /// The body with `webhook_secret` and `webhook_url` spliced in after its opening brace:
    /// every other byte is the one the ledger holds (and `--dry-run` printed), where re-encoding
    /// could respell numbers.
    static func adding(_ webhook: (url: String, secret: String), to body: [UInt8]) -> [UInt8] {
        func isSpace(_ byte: UInt8) -> Bool { byte == 0x20 || byte == 0x0A || byte == 0x0D || byte == 0x09 }
        let encoder = JSONEncoder()
        encoder.outputFormatting = .withoutEscapingSlashes
        guard let brace = body.firstIndex(where: { !isSpace($0) }), body[brace] == UInt8(ascii: "{"),
              let secret = try? encoder.encode(webhook.secret), let url = try? encoder.encode(webhook.url)
        else { return body }
        let rest = body[(brace + 1)...]
        let isEmpty = rest.first(where: { !isSpace($0) }) == UInt8(ascii: "}")
        let fields = Array(#""webhook_secret":"#.utf8) + Array(secret) + Array(#","webhook_url":"#.utf8) + Array(url)
        return Array(body[...brace]) + fields + (isEmpty ? [] : [UInt8(ascii: ",")]) + Array(rest)
    }
}
