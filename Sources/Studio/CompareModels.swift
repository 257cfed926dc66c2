public import BFL

// The submission the form describes, worked out by the one `SubmissionPlan` that the CLI uses
// too: the matrix, the count, the seed sweep and the models marked for comparison.

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
}
