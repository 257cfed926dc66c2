public import BFL
public import Jobs
public import TerminalCore
public import Widgets

/// The panes that take the keyboard, in Tab order.
public enum Focus: Int, CaseIterable, Sendable {
    case prompt, model, jobs, outputs

    public var title: String {
        switch self {
        case .prompt: "Prompt"
        case .model: "Model"
        case .jobs: "Jobs"
        case .outputs: "Outputs"
        }
    }
}

/// Everything the studio shows. Only `reduce` changes it.
public struct AppState: Sendable {
    public var editor = TextEditor()
    public var modelIndex: Int
    public var sizeIndex = 0
    public var count = 1
    public var focus = Focus.prompt
    /// Jobs of this session and recent ones, newest first.
    public var jobs: [JobRecord] = []
    public var progress: [String: Double] = [:]
    public var jobsList = ListState()
    public var outputsList = ListState()
    public var message: Message?
    public var showHelp = false
    public var confirmingQuit = false
    /// "SIMULATOR — no credits spent" when running against the built-in simulator.
    public var modeLabel: String?
    public var credits: Credits?
    public var width = 80
    public var height = 24
    public var tick = 0
    public var promptScroll = 0

    public struct Message: Sendable, Hashable {
        public var text: String
        public var isError: Bool
    }

    public init(modelID: String = "flux-2-pro", modeLabel: String? = nil) {
        modelIndex = Catalog.all.firstIndex { $0.id == modelID } ?? 0
        self.modeLabel = modeLabel
    }

    public var model: Model { Catalog.all[modelIndex] }

    /// The size choices for the current model: sizes for width/height models, aspect ratios
    /// for the others.
    public var sizeChoices: [String] {
        switch model.sizeRule {
        case .flux2: ["1024x1024", "1024x768", "768x1024", "1920x1080", "1080x1920", "512x512", "2048x2048"]
        case .pro11: ["1024x768", "768x1024", "1024x1024", "1440x1440", "512x512"]
        case .aspectRatio, .aspectRatioUltra: ["1:1", "16:9", "9:16", "4:3", "3:4", "21:9"]
        case .sameAsImage: ["image size"]
        }
    }

    public var sizeChoice: String { sizeChoices[min(sizeIndex, sizeChoices.count - 1)] }

    /// The request the prompt and settings describe.
    public var parameters: GenerationParameters {
        var parameters = GenerationParameters(prompt: TerminalText.sanitizeKeepingNewlines(editor.text))
        switch model.sizeRule {
        case .flux2, .pro11:
            if let size = PixelSize(parsing: sizeChoice) {
                parameters.width = size.width
                parameters.height = size.height
            }
        case .aspectRatio, .aspectRatioUltra:
            parameters.aspectRatio = sizeChoice
        case .sameAsImage:
            break
        }
        return parameters
    }

    /// The live estimate for what would be submitted now.
    public var estimate: CostEstimate {
        PriceEstimator.estimate(model: model, outputSize: parameters.size, count: count)
    }

    public var outputs: [JobRecord] { jobs.filter { $0.outputPath != nil } }
    public var runningCount: Int { jobs.filter { !$0.phase.isFinal }.count }

    /// Credits charged for this session's jobs.
    public var sessionCharged: Credits {
        jobs.compactMap(\.chargedCredits).reduce(.zero, +)
    }
}

/// What happens to the studio.
public enum Action: Sendable {
    case key(Key)
    case resize(width: Int, height: Int)
    case jobUpdated(JobRecord)
    case jobProgress(id: String, progress: Double)
    case creditsLoaded(Credits?)
    case jobsLoaded([JobRecord])
    case submitFailed(String)
    case tick
}

/// What the studio asks the outside world to do; results come back as actions.
public enum Effect: Sendable, Equatable {
    case submit(modelID: String, parameters: GenerationParameters, count: Int)
    case cancel(jobID: String)
    case refreshCredits
    case quit
}
