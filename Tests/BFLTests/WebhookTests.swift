import BFL
import Crypto
import Foundation
import Testing

@Suite("Webhook receiver")
struct WebhookTests {
    static let body = Array(#"{"task_id":"t1","status":"SUCCESS","result":{"sample":"https://delivery-eu.bfl.ai/results/ab/sample.jpeg?sig=x","seed":7}}"#.utf8)

    static func signature(_ secret: String, _ body: [UInt8]) -> String {
        let mac = HMAC<SHA256>.authenticationCode(for: body, using: SymmetricKey(data: Data(secret.utf8)))
        return "sha256=" + mac.map { String(format: "%02x", $0) }.joined()
    }

    @Test("the secret header or a valid signature is required when a secret is set")
    func verify() {
        #expect(WebhookReceiver.verify(headers: [], body: Self.body, secret: nil))
        #expect(WebhookReceiver.verify(headers: [HeaderField("x-webhook-secret", "s3cret")], body: Self.body, secret: "s3cret"))
        #expect(!WebhookReceiver.verify(headers: [HeaderField("X-Webhook-Secret", "s3cre")], body: Self.body, secret: "s3cret"))
        #expect(!WebhookReceiver.verify(headers: [], body: Self.body, secret: "s3cret"))
        let good = Self.signature("s3cret", Self.body)
        #expect(WebhookReceiver.verify(headers: [HeaderField("X-BFL-Signature", good)], body: Self.body, secret: "s3cret"))
        #expect(WebhookReceiver.verify(headers: [HeaderField("X-BFL-Signature", good.uppercased())], body: Self.body, secret: "s3cret"))
        #expect(!WebhookReceiver.verify(headers: [HeaderField("X-BFL-Signature", good)], body: Self.body + [0x20], secret: "s3cret"))
        #expect(!WebhookReceiver.verify(headers: [HeaderField("X-BFL-Signature", Self.signature("other", Self.body))], body: Self.body, secret: "s3cret"))
    }

    @Test("both payload shapes are read")
    func parse() throws {
        let a = try WebhookReceiver.parse(Self.body)
        #expect(a == WebhookEvent(taskID: "t1", status: .ready, sample: "https://delivery-eu.bfl.ai/results/ab/sample.jpeg?sig=x", seed: 7, error: nil))
        let failedA = try WebhookReceiver.parse(Array(#"{"task_id":"t2","status":"FAILED","error":"boom\u001b[2J"}"#.utf8))
        #expect(failedA.status == .error)
        #expect(failedA.error == "boom[2J")
        let b = try WebhookReceiver.parse(Array(#"{"id":"t3","status":"Ready","result":{"sample":"u","prompt":"p","seed":3},"timestamp":1}"#.utf8))
        #expect(b.taskID == "t3" && b.status == .ready && b.seed == 3)
        let failedB = try WebhookReceiver.parse(Array(#"{"id":"t4","status":"Error","message":"nope"}"#.utf8))
        #expect(failedB.status == .error && failedB.error == "nope")
        #expect(throws: BFLError.malformedResponse("the webhook body has no task id")) { try WebhookReceiver.parse(Array(#"{"status":"SUCCESS"}"#.utf8)) }
        #expect(throws: BFLError.malformedResponse("the webhook body is not a JSON object")) { try WebhookReceiver.parse(Array("[1]".utf8)) }
    }
}
