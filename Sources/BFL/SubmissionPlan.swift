// One submission, worked out once: the prompt matrix × the count × the seed sweep × the
// compared models → the exact requests, each validated and priced. The CLI (`generate`,
// `batch`, `--dry-run`, `--max-spend`) and the studio (submit, its confirmation, the cost pane,
// the prompt list and the body preview) all read the same plan, so what is previewed is what
// is sent.

/// What one submission asks for: the studio's form, or one `generate` or batch line.
public struct SubmissionForm: Sendable, Hashable {
    /// The model the settings are written for.
    public var model: Model
    /// The settings; the prompt is a template that may hold `{a|b}` groups.
    public var parameters: GenerationParameters
    /// Images of each prompt, on each model.
    public var count: Int
    /// With a seed: each image of a prompt gets the next seed (seed, seed+1, …).
    public var seedSweep: Bool
    /// Models to compare: each is sent the settings in its own terms. Empty: only `model`.
    public var compared: [Model]

    public init(model: Model, parameters: GenerationParameters, count: Int = 1, seedSweep: Bool = false, compared: [Model] = []) {
        self.model = model
        self.parameters = parameters
        self.count = count
        self.seedSweep = seedSweep
        self.compared = compared
    }
}

/// Why a submission cannot be made: every problem, each a sentence.
public struct SubmissionProblem: Error, Sendable, Hashable, CustomStringConvertible {
    public var messages: [String]
    public init(_ messages: [String]) { self.messages = messages }
    public init(_ message: String) { self.messages = [message] }
    /// Every problem, joined.
    public var message: String { messages.joined(separator: "; ") }
    public var description: String { message }
}

/// A submission worked out: its prompts, its models with their settings, and its requests.
public struct SubmissionPlan: Sendable {
    /// The most requests one submission may make (a `generate`, a batch line, a studio submit).
    public static let maxRequests = 1_000
    /// The most images of each prompt.
    public static let counts = 1...100

    /// One model the submission goes to: its settings in its own terms (the prompt still a
    /// template), what was changed or left out for it, and the price of one image.
    public struct Target: Sendable, Hashable {
        public var model: Model
        public var parameters: GenerationParameters
        public var notes: [String]
        public var warnings: [ValidationIssue]
        public var perImage: CostEstimate
    }

    /// One request as it is sent: one image.
    public struct Request: Sendable {
        public var model: Model
        public var parameters: GenerationParameters
        public var estimate: CostEstimate
    }

    /// Requests that share everything: `count` images of the same body (the engine sends each
    /// on its own).
    public struct Batch: Sendable, Hashable {
        public var model: Model
        public var parameters: GenerationParameters
        public var count: Int
        /// In a comparison without a seed: this image's place in its variant (0, 1, …). The
        /// seed is the submission's shared one plus this, drawn when it is sent.
        public var sharedSeedOffset: Int?

        /// The parameters as sent, with the submission's shared seed (`seed`) applied.
        public func parameters(sharedSeed seed: Int) -> GenerationParameters {
            SubmissionPlan.applying(sharedSeed: seed, offset: sharedSeedOffset, to: parameters)
        }
    }

    /// The seeds a shared seed is drawn from (below BFL's and every model's limit, with room
    /// for the largest count added).
    public static let sharedSeeds = 0..<1_000_000_000

    /// `parameters` with image `offset`'s seed of a submission sharing `seed` (unchanged
    /// without an offset): the one rule the plan and the studio's driver both apply.
    public static func applying(sharedSeed seed: Int, offset: Int?, to parameters: GenerationParameters) -> GenerationParameters {
        var each = parameters
        if let offset { each.seed = seed + offset }
        return each
    }

    /// A fresh shared seed, for a submission whose `sharesSeed` is true.
    public static func drawSharedSeed() -> Int { Int.random(in: sharedSeeds) }

    public let form: SubmissionForm
    /// The prompts the matrix makes (the prompt unescaped when it has no group; `[nil]`
    /// without a prompt).
    public let prompts: [String?]
    public let targets: [Target]
    /// The compared models that cannot take the submission, with why.
    public let skipped: [String]

    public var count: Int { form.count }
    /// How many requests go out.
    public var requestCount: Int { targets.count * prompts.count * count }
    /// What the whole submission is estimated to cost.
    public var total: Credits {
        targets.reduce(Credits.zero) { $0 + $1.perImage.credits * (prompts.count * count) }
    }
    /// Whether this is a comparison of several models.
    public var isComparison: Bool { !form.compared.isEmpty }

    /// Whether the requests share one seed drawn when they are sent: a comparison (prompt
    /// variants or models) without a seed or a sweep. Image n of every variant gets the shared
    /// seed + n, so each difference is the variant's, not the seed's.
    public var sharesSeed: Bool {
        form.parameters.seed == nil && !form.seedSweep && (prompts.count > 1 || targets.count > 1)
    }

    /// The requests in the order they are sent: by model, then prompt, then image. `sharedSeed`:
    /// the seed drawn for a submission that `sharesSeed` (ignored otherwise).
    public func requests(sharedSeed: Int) -> [Request] {
        batches.flatMap { batch in
            let target = targets.first { $0.model == batch.model }
            let parameters = batch.parameters(sharedSeed: sharedSeed)
            let estimate = target?.perImage ?? PriceEstimator.estimate(model: batch.model, parameters: parameters)
            return Array(repeating: Request(model: batch.model, parameters: parameters, estimate: estimate), count: batch.count)
        }
    }

    /// The requests grouped: one batch per model and prompt, or per image in a seed sweep or a
    /// comparison that shares a seed.
    public var batches: [Batch] {
        var batches: [Batch] = []
        let sweep = form.seedSweep ? form.parameters.seed : nil
        let shared = sharesSeed
        for target in targets {
            for prompt in prompts {
                var each = target.parameters
                each.prompt = prompt
                if let sweep {
                    for n in 0..<count {
                        each.seed = sweep + n
                        batches.append(Batch(model: target.model, parameters: each, count: 1))
                    }
                } else if shared {
                    for n in 0..<count {
                        batches.append(Batch(model: target.model, parameters: each, count: 1, sharedSeedOffset: n))
                    }
                } else {
                    batches.append(Batch(model: target.model, parameters: each, count: count))
                }
            }
        }
        return batches
    }

    /// "4 × FLUX.2 [pro]", or "12 requests (1 prompt × 4 × 3 models) of 3 models".
    public var summary: String {
        let models = targets.count == 1 ? targets[0].model.displayName : "\(targets.count) models"
        if prompts.count == 1, targets.count == 1 { return "\(count) × \(models)" }
        let prompts = "\(self.prompts.count) prompt\(self.prompts.count == 1 ? "" : "s")"
        return "\(requestCount) requests (\(prompts) × \(count)\(targets.count > 1 ? " × \(targets.count) models" : "")) of \(models)"
    }

    /// "2 prompts × 4 × 3 models = 24 requests": the factors and the count that goes out.
    public var requestTitle: String {
        var factors = ["\(prompts.count) prompt\(prompts.count == 1 ? "" : "s")", "\(count)"]
        if targets.count > 1 { factors.append("\(targets.count) models") }
        return factors.joined(separator: " × ") + " = \(requestCount) request\(requestCount == 1 ? "" : "s")"
    }

    /// Works out `form`. `expanded` is the prompt's matrix when the caller has it already (the
    /// studio keeps it as the prompt is typed).
    public static func make(_ form: SubmissionForm, expanded: [String]? = nil) throws(SubmissionProblem) -> SubmissionPlan {
        let base = form.parameters
        let errors = base.validate(for: form.model).filter { $0.severity == .error }
        guard errors.isEmpty else { throw SubmissionProblem(errors.map(\.message)) }
        guard counts.contains(form.count) else {
            throw SubmissionProblem("count must be between \(counts.lowerBound) and \(counts.upperBound) (got \(form.count))")
        }
        let prompts: [String?]
        if let expanded {
            prompts = expanded
        } else if let prompt = base.prompt {
            do { prompts = try PromptMatrix.expand(prompt) } catch { throw SubmissionProblem("the prompt: \(error.message)") }
        } else {
            prompts = [nil]
        }
        if form.seedSweep {
            guard let seed = base.seed else { throw SubmissionProblem("a seed sweep needs a starting seed") }
            guard !seed.addingReportingOverflow(form.count - 1).overflow else {
                throw SubmissionProblem("the seed sweep runs past the largest seed")
            }
        }
        var targets: [Target] = []
        var skipped: [String] = []
        for model in form.compared.isEmpty ? [form.model] : form.compared {
            let translated: (GenerationParameters, [String])
            if model == form.model {
                translated = (base, [])
            } else {
                switch base.translated(to: model) {
                case .success(let result): translated = result
                case .failure(let problem):
                    skipped.append("\(model.displayName): \(problem.message)")
                    continue
                }
            }
            let (parameters, notes) = translated
            let issues = parameters.validate(for: model)
            targets.append(Target(model: model, parameters: parameters, notes: notes,
                                  warnings: issues.filter { $0.severity == .warning },
                                  perImage: PriceEstimator.estimate(model: model, parameters: parameters)))
        }
        guard !targets.isEmpty else {
            throw SubmissionProblem("no marked model can take this: " + skipped.joined(separator: "; "))
        }
        if let empty = prompts.firstIndex(where: { ($0 ?? "").allSatisfy(\.isWhitespace) }),
           let needing = targets.first(where: { $0.model.family.requiresPrompt }) {
            let which = prompts.count == 1 ? "the prompt is empty" : "prompt \(empty + 1) of \(prompts.count) is empty"
            throw SubmissionProblem("\(which); a prompt is required for \(needing.model.displayName)")
        }
        let plan = SubmissionPlan(form: form, prompts: prompts, targets: targets, skipped: skipped)
        guard plan.requestCount <= maxRequests else {
            var factors = ["\(prompts.count) prompt\(prompts.count == 1 ? "" : "s")", "\(form.count) image\(form.count == 1 ? "" : "s")"]
            if targets.count > 1 { factors.append("\(targets.count) models") }
            throw SubmissionProblem("\(factors.joined(separator: " × ")) is \(plan.requestCount) requests, over the \(maxRequests) one submission may send")
        }
        return plan
    }
}
