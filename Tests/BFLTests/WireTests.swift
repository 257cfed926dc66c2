import BFL
import Foundation
import Testing

@Suite("Encoding: only set fields are sent")
struct EncodingTests {
    func body(_ model: String, _ edit: (inout GenerationParameters) -> Void = { _ in }) throws -> String {
        var parameters = GenerationParameters(prompt: "cat")
        edit(&parameters)
        let prepared = try parameters.prepare(for: try #require(Catalog.model(id: model)))
        return String(decoding: try prepared.jsonBody(), as: UTF8.self)
    }

    @Test("a bare prompt sends only the prompt")
    func bare() throws {
        #expect(try body("flux-2-pro") == #"{"prompt":"cat"}"#)
        #expect(try body("flux-kontext-pro") == #"{"prompt":"cat"}"#)
        #expect(try body("flux-pro-1.1") == #"{"prompt":"cat"}"#)
    }

    @Test("pro and max get disable_pup, never prompt_upsampling")
    func upsamplingOnPro() throws {
        #expect(try body("flux-2-pro") { $0.promptUpsampling = false } == #"{"disable_pup":true,"prompt":"cat"}"#)
        #expect(try body("flux-2-max") { $0.promptUpsampling = true } == #"{"disable_pup":false,"prompt":"cat"}"#)
        #expect(try body("flux-2-flex") { $0.promptUpsampling = false } == #"{"prompt":"cat","prompt_upsampling":false}"#)
        #expect(try body("flux-kontext-pro") { $0.promptUpsampling = true } == #"{"prompt":"cat","prompt_upsampling":true}"#)
    }

    @Test("references fill input_image, input_image_2, …")
    func referenceSlots() throws {
        let text = try body("flux-2-pro") {
            $0.references = ["a", "b", "c"].map { ImageReference(value: "https://x.test/\($0).png") }
            $0.width = 1024
            $0.height = 768
            $0.seed = 7
            $0.outputFormat = .png
        }
        #expect(text == #"{"height":768,"input_image":"https://x.test/a.png","input_image_2":"https://x.test/b.png","input_image_3":"https://x.test/c.png","output_format":"png","prompt":"cat","seed":7,"width":1024}"#)
    }

    @Test("FLUX1.1 sends its reference as image_prompt")
    func imagePrompt() throws {
        let text = try body("flux-pro-1.1-ultra") {
            $0.references = [ImageReference(value: "aGk=")]
            $0.imagePromptStrength = 0.4
            $0.aspectRatio = "9:16"
        }
        #expect(text == #"{"aspect_ratio":"9:16","image_prompt":"aGk=","image_prompt_strength":0.4,"prompt":"cat"}"#)
    }

    @Test("flex and fill send their tuning fields")
    func tuning() throws {
        #expect(try body("flux-2-flex") { $0.steps = 30; $0.guidance = 4.5 } == #"{"guidance":4.5,"prompt":"cat","steps":30}"#)
        #expect(try body("flux-pro-1.0-fill") { $0.image = ImageReference(value: "aW1n"); $0.mask = ImageReference(value: "bWFzaw==") }
            == #"{"image":"aW1n","mask":"bWFzaw==","prompt":"cat"}"#)
        #expect(try body("flux-2-pro") { $0.webhookURL = "https://hook.test/x"; $0.webhookSecret = "s3" ; $0.safetyTolerance = 0 }
            == #"{"prompt":"cat","safety_tolerance":0,"webhook_secret":"s3","webhook_url":"https://hook.test/x"}"#)
    }

    @Test("long image data is spliced in as it is: the bytes are the encoder's own, for every family, with data that needs escaping left to the encoder")
    func splicedImages() throws {
        let base64 = Data((0..<30_000).map { UInt8(truncatingIfNeeded: $0 &* 7 &+ $0 >> 3) }).base64EncodedString()
        let url = "https://x.test/" + String(repeating: "a/b", count: 2000) + ".png"
        // A prompt holding what the tokens look like cannot be taken for one.
        let escaped = "data\\with\"quotes\u{1}" + String(repeating: "é", count: 3000)
        var checked: [String] = []
        for model in Catalog.all {
            var parameters = GenerationParameters(prompt: "cat #0\" " + base64.prefix(40))
            parameters.references = Array([ImageReference(value: base64), ImageReference(value: url), ImageReference(value: escaped)]
                .prefix(model.maxReferences))
            if model.sizeRule == .sameAsImage {
                parameters.references = []
                parameters.image = ImageReference(value: base64, size: PixelSize(width: 64, height: 64))
                parameters.mask = ImageReference(value: escaped, size: PixelSize(width: 64, height: 64))
            }
            guard let prepared = try? parameters.prepare(for: model) else { continue }
            checked.append(model.id)
            let plain = JSONEncoder()
            plain.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
            let spliced = try prepared.jsonBody()
            #expect(spliced == (try plain.encode(prepared.body)), "\(model.id)")
            let object = try #require(try JSONSerialization.jsonObject(with: spliced) as? [String: Any])
            if !parameters.references.isEmpty || parameters.image != nil {
                #expect(object.values.contains { ($0 as? String) == base64 }, "\(model.id)")
            }
        }
        #expect(checked.count == Catalog.all.count, "prepared: \(checked)")
    }

}

@Suite("Decoding: lenient replies")
struct DecodingTests {
    func decode<T: Decodable>(_ type: T.Type, _ text: String) throws -> T {
        try JSONDecoder().decode(type, from: Data(text.utf8))
    }

    @Test("the real flux-2-pro 65x65 submit reply")
    func realSubmit() throws {
        let reply = try decode(SubmitResponse.self,
            #"{"id":"d5ba1c2e","polling_url":"https://api.eu2.bfl.ai/v1/get_result?id=d5ba1c2e","cost":3.0,"input_mp":0.0,"output_mp":0.0}"#)
        #expect(reply.id == "d5ba1c2e")
        #expect(reply.pollingURL == "https://api.eu2.bfl.ai/v1/get_result?id=d5ba1c2e")
        #expect(reply.cost == "3")
        #expect(reply.outputMP == 0)
    }

    @Test("the webhook form has no polling_url; FLUX.1 replies have no cost; unknown keys are ignored")
    func otherSubmitShapes() throws {
        let hook = try decode(SubmitResponse.self,
            #"{"id":"a","status":"Pending","webhook_url":"https://h.test/","cost":"4.5","brand_new":{"x":1}}"#)
        #expect(hook.pollingURL == nil)
        #expect(hook.status == .pending)
        #expect(hook.webhookURL == "https://h.test/")
        #expect(hook.cost == "4.5")
        let flux1 = try decode(SubmitResponse.self, #"{"id":"b","polling_url":"https://api.us1.bfl.ai/v1/get_result?id=b","cost":null}"#)
        #expect(flux1.cost == nil)
        #expect(throws: DecodingError.self) { try decode(SubmitResponse.self, #"{"polling_url":"x"}"#) }
    }

    @Test("statuses", arguments: [
        ("Pending", TaskStatus.pending, false), ("Reasoning", .reasoning, false),
        ("Generating", .generating, false), ("Ready", .ready, true), ("Error", .error, true),
        ("Failed", .error, true), ("Request Moderated", .requestModerated, true),
        ("Content Moderated", .contentModerated, true), ("Task not found", .taskNotFound, true),
        ("Queued", .unknown("Queued"), false), ("Paused", .unknown("Paused"), false),
    ])
    func statuses(_ wire: String, _ status: TaskStatus, _ terminal: Bool) throws {
        let reply = try decode(PollResponse.self, #"{"id":"x","status":"\#(wire)"}"#)
        #expect(reply.status == status)
        #expect(reply.status.isTerminal == terminal)
    }

    @Test("a Ready poll with result, progress as int, settled cost and extra keys")
    func readyPoll() throws {
        let reply = try decode(PollResponse.self, #"""
            {"id":"x","status":"Ready","progress":1,"cost":4,"result":{"sample":"https://delivery-eu.bfl.ai/results/ab/sample.jpeg?se=2026&sig=z","seed":"42","start_time":1.5,"end_time":3,"duration":1.5,"prompt":"p"},"preview":null,"new_field":[1,2]}
            """#)
        #expect(reply.status == .ready)
        #expect(reply.progress == 1)
        #expect(reply.cost == "4")
        #expect(reply.result?.seed == 42)
        #expect(reply.result?.sample?.hasPrefix("https://delivery-eu.bfl.ai/") == true)
        #expect(reply.result?.duration == 1.5)
    }

    @Test("error messages come from details.error, then result.error")
    func errorMessages() throws {
        let new = try decode(PollResponse.self, #"{"id":"x","status":"Error","details":{"error":"GPU fell over"}}"#)
        #expect(new.errorMessage == "GPU fell over")
        let old = try decode(PollResponse.self, #"{"id":"x","status":"Error","result":{"error":"old style"}}"#)
        #expect(old.errorMessage == "old style")
        let none = try decode(PollResponse.self, #"{"id":"x","status":"Error","details":null,"result":null}"#)
        #expect(none.errorMessage == nil)
        let odd = try decode(PollResponse.self, #"{"id":"x","status":"Error","result":"not an object","progress":"n/a"}"#)
        #expect(odd.result == nil)
        #expect(odd.progress == nil)
    }

    @Test("credits may be int or fractional")
    func credits() throws {
        #expect(try decode(CreditsResponse.self, #"{"credits":857}"#).credits == "857")
        #expect(try decode(CreditsResponse.self, #"{"credits":857.25,"currency":"credits"}"#).credits == "857.25")
    }

    @Test("error bodies: string detail, list detail, message, error, non-JSON")
    func errorBodies() {
        #expect(ErrorBody(bytes: Array(#"{"detail":"Not authenticated"}"#.utf8)).message == "Not authenticated")
        let list = ErrorBody(bytes: Array(#"{"detail":[{"loc":["body","steps"],"msg":"Input should be less than or equal to 50","type":"less_than_equal"},{"loc":["body","foo"],"msg":"Extra inputs are not permitted","type":"extra_forbidden"}]}"#.utf8))
        #expect(list.details.map(\.readable) == ["steps: Input should be less than or equal to 50", "foo: Extra inputs are not permitted"])
        #expect(list.message == "steps: Input should be less than or equal to 50; foo: Extra inputs are not permitted")
        #expect(ErrorBody(bytes: Array(#"{"message":"slow down"}"#.utf8)).message == "slow down")
        #expect(ErrorBody(bytes: Array(#"{"error":"boom"}"#.utf8)).message == "boom")
        #expect(ErrorBody(bytes: Array("<html>\n<body>502 Bad Gateway</body>".utf8)).message == "<html>")
        #expect(ErrorBody(bytes: Array("upstream \u{1B}[31mred\u{7}".utf8)).message == "upstream [31mred")
        #expect(ErrorBody(bytes: []).message == nil)
    }

    @Test("status codes map to the taxonomy", arguments: [
        (403, #"{"detail":"Not authenticated"}"#, BFLError.missingKey),
        (403, #"{"detail":"Not authenticated - Invalid Authentication"}"#, .invalidKey),
        (403, #"{"detail":"Forbidden for this key"}"#, .permissionDenied("Forbidden for this key")),
        (401, "", .invalidKey),
        (422, #"{"detail":"Invalid API key format"}"#, .malformedKey),
        (422, #"{"detail":[{"loc":["body","steps"],"msg":"too big","type":"less_than_equal"}]}"#, .validation(["steps: too big"])),
        (402, #"{"detail":"Insufficient credits"}"#, .insufficientCredits("Insufficient credits")),
        (404, #"{"detail":"Not Found"}"#, .notFound("Not Found")),
        (429, #"{"detail":"Too many active tasks"}"#, .rateLimited(retryAfter: nil)),
        (500, "oops", .serverError(status: 500, message: "oops")),
        (418, "", .unexpectedStatus(status: 418, message: nil)),
    ])
    func statusMapping(_ status: Int, _ body: String, _ expected: BFLError) {
        #expect(BFLClient.error(status: status, body: Array(body.utf8), headers: []) == expected)
    }

    @Test("every error has a message and a hint; 403 tells how to set BFL_API_KEY")
    func hints() {
        #expect(BFLError.missingKey.hint.contains("BFL_API_KEY"))
        #expect(BFLError.invalidKey.hint.contains("BFL_API_KEY"))
        #expect(BFLError.rateLimited(retryAfter: .seconds(7)).hint.contains("7 s"))
        #expect(BFLError.generationFailed("bad \u{1B}]0;title\u{7}").message == "The generation failed: bad ]0;title.")
    }
}

@Suite("Terminal text and keys")
struct SafetyTests {
    @Test("control characters are stripped")
    func sanitize() {
        #expect(TerminalText.sanitize("a\u{1B}[2Jb\u{0}c\u{9B}d\u{7F}e\u{202E}f") == "a[2Jbcdef")
        #expect(TerminalText.sanitize("line1\nline2\t\tend") == "line1 line2 end")
        #expect(TerminalText.sanitize("日本語 🎨") == "日本語 🎨")
    }

    @Test("the key prints masked everywhere")
    func masked() throws {
        let key = try #require(APIKey(" \"bfl_secret_value_1234abcd\" "))
        #expect(key.description == "••••abcd")
        #expect("\(key)" == "••••abcd")
        #expect(String(reflecting: key) == "APIKey(••••abcd)")
        var dumped = ""
        dump(key, to: &dumped)
        #expect(!dumped.contains("secret"))
        #expect(key.occurs(in: "x bfl_secret_value_1234abcd y"))
        #expect(APIKey("   ") == nil)
    }

    @Test("which hosts may receive the key", arguments: [
        ("https://api.bfl.ai/v1/credits", true), ("https://api.eu2.bfl.ai/v1/get_result?id=1", true),
        ("https://api.us1.bfl.ai/v1/x", true), ("https://delivery-eu.bfl.ai/results/a/sample.jpeg", false),
        ("http://api.bfl.ai/v1/credits", false), ("https://api.bfl.ai.evil.test/v1", false),
        ("https://evil.test/api.bfl.ai", false), ("https://bfl.ai/v1", false),
    ])
    func keyPolicyRegion(_ url: String, _ allowed: Bool) throws {
        let policy = KeyPolicy(endpoint: .region(.global))
        #expect(policy.allowsKey(for: try #require(URL(string: url))) == allowed)
    }

    @Test("custom endpoints: same host, https or loopback only")
    func keyPolicyCustom() throws {
        let local = KeyPolicy(endpoint: try #require(Endpoint(customURL: "http://127.0.0.1:8700/")))
        #expect(local.endpointIsSecure)
        #expect(local.allowsKey(for: try #require(URL(string: "http://127.0.0.1:8701/v1/get_result?id=1"))))
        #expect(!local.allowsKey(for: try #require(URL(string: "http://10.0.0.1:8701/v1/get_result"))))
        let plain = KeyPolicy(endpoint: try #require(Endpoint(customURL: "http://proxy.example.com")))
        #expect(!plain.endpointIsSecure)
        #expect(!plain.allowsKey(for: try #require(URL(string: "http://proxy.example.com/v1/credits"))))
        #expect(Endpoint(customURL: "ftp://x") == nil)
        #expect(Endpoint(customURL: "not a url") == nil)
    }

    @Test("a proxy's declared cluster hosts may be polled and carry the key; others may not")
    func keyPolicyClusters() throws {
        let endpoint = try #require(Endpoint(customURL: "https://proxy.example.com"))
        let cluster = try #require(ClusterHosts.url("https://eu2.proxy.example.com/"))
        let policy = KeyPolicy(endpoint: endpoint, clusters: [cluster])
        let poll = try #require(URL(string: "https://eu2.proxy.example.com/v1/get_result?id=1"))
        #expect(policy.allowsPolling(poll) && policy.allowsKey(for: poll))
        let other = try #require(URL(string: "https://us9.proxy.example.com/v1/get_result?id=1"))
        #expect(!policy.allowsPolling(other) && !policy.allowsKey(for: other))
        #expect(!KeyPolicy(endpoint: endpoint).allowsPolling(poll))
        #expect(ClusterHosts.url("ftp://x") == nil && ClusterHosts.url("https://user:pw@x") == nil)
        // BFL's built-in cluster hosts are all API hosts that carry the key.
        #expect(ClusterHosts.bfl.allSatisfy { KeyPolicy(endpoint: .region(.global)).allowsPolling(BFLClient.pollingURL(taskID: "t", on: $0).asURL) })
        #expect(BFLClient.pollingURL(taskID: "a b", on: cluster) == "https://eu2.proxy.example.com/v1/get_result?id=a%20b")
    }
}

private extension String {
    var asURL: URL { URL(string: self) ?? URL(fileURLWithPath: "/") }
}
