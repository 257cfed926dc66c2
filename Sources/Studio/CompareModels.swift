public import BFL

// The submission the form describes, worked out by the one `SubmissionPlan` that the CLI uses
// too: the matrix, the count, the seed sweep and the models marked for comparison.

/// One model a submission goes to (the plan's).
public typealias ModelTarget = SubmissionPlan.Target

extension AppState {
    /// What the form asks for.
    public var submissionForm: SubmissionForm {
        SubmissionForm(model: model, parameters: parameters, count: count, seedSweep: settings.seedSweep,
                       compared: comparedModels.compactMap(Catalog.model(id:)))
    }

    /// The submission the form describes now, or why it cannot be sent. Views work it out once
    /// a frame; the prompt's matrix is the one kept as the prompt is typed.
    public var plan: Result<SubmissionPlan, SubmissionProblem> {
        let form = submissionForm
        let expanded: [String]?
        switch matrix {
        case .failure(let problem): return .failure(SubmissionProblem("the prompt: \(problem.message)"))
        case .success(let prompts): expanded = form.parameters.prompt == nil ? nil : prompts
        }
        do { return .success(try SubmissionPlan.make(form, expanded: expanded)) } catch { return .failure(error) }
    }

    /// The models a submission goes to, each with the form's settings translated, and those
    /// left out with why.
    public var targets: (targets: [ModelTarget], skipped: [String]) {
        switch plan {
        case .success(let plan): (plan.targets, plan.skipped)
        case .failure(let problem): ([], [problem.message])
        }
    }

    /// Credits one submission would cost: every prompt and image, on every target model (the
    /// current model's estimate when the form cannot be sent as it is).
    public var submissionCredits: Credits {
        (try? plan.get().total) ?? estimate.credits
    }

    /// `w:h` in lowest terms, kept within 21:9 … 9:21.
    static func ratio(_ size: PixelSize) -> String { GenerationParameters.ratio(size) }
}
