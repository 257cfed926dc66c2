public import BFL
public import Foundation
public import Jobs
public import Imaging
public import TerminalCore

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

/// One row of the model pane's form. Which rows exist depends on the model.
public enum FormRow: Sendable, Hashable {
    case model, region, size, count, seed, format, safety, steps, guidance, upsampling
    /// Ultra's raw mode (the Ultra Raw catalog entry).
    case raw
    /// A reference-image slot (for Fill: 0 is the image, 1 the mask).
    case reference(Int)

    /// Rows typed into rather than stepped through.
    public var isText: Bool {
        switch self {
        case .seed, .reference: true
        default: false
        }
    }
}

/// Mask mode over the viewer's picture: rectangles of the cells it is drawn in, to repaint with
/// Fill. A cursor moves over the cells; Space (or a mouse press) anchors a corner and Space
/// again (or the release) closes the rectangle.
public struct MaskEdit: Sendable, Hashable {
    public var jobID: String
    /// The cell under the cursor, in the picture's cells (0, 0 its top-left).
    public var cursorX = 0
    public var cursorY = 0
    /// The first corner of the rectangle being drawn.
    public var anchorX: Int?
    public var anchorY: Int?
    /// The rectangles drawn, each with the grid it was drawn on.
    public var rects: [GridRect] = []
    /// Repaint everything but the rectangles.
    public var inverted = false

    public init(jobID: String) { self.jobID = jobID }
}

/// Extend mode over the viewer's picture: how far each side of the image grows (Fill paints
/// the new area), and the image's size, read from its file when the mode opens.
public struct ExtendEdit: Sendable, Hashable {
    public var jobID: String
    public var sides = CanvasExtension()
    /// The sides before each step, for undo.
    public var earlier: [CanvasExtension] = []
    /// The image's size in pixels (nil until read).
    public var size: PixelSize?

    public init(jobID: String) { self.jobID = jobID }

    /// The canvas the extension makes, once the size is known.
    public var grown: PixelSize? {
        guard let size else { return nil }
        let grown = sides.grown(width: size.width, height: size.height)
        return PixelSize(width: grown.width, height: grown.height)
    }
}

/// A reference image chosen for a slot: the path typed or picked, and what reading its header
/// found (the size, for pricing), or why it cannot be used.
public struct ReferenceSlot: Sendable, Hashable {
    public var path: String
    public var size: PixelSize?
    public var problem: String?

    public init(path: String, size: PixelSize? = nil, problem: String? = nil) {
        self.path = path
        self.size = size
        self.problem = problem
    }
}

/// The generation settings of the model pane. Unset values mean the model's default.
public struct Settings: Sendable, Hashable {
    /// A locked seed, or nil for a random one each time.
    public var seed: Int?
    public var format: OutputFormat?
    public var safety: Int?
    public var steps: Int?
    public var guidance: Double?
    public var upsampling: Bool?
    /// With a locked seed s and N images: seeds s, s+1, …, s+N−1.
    public var seedSweep = false
    /// Slots by index; missing or empty slots are not sent.
    public var references: [Int: ReferenceSlot] = [:]

    public init() {}
}

/// A one-line text field being edited (a seed, a reference path, the outputs filter).
public struct FieldEdit: Sendable, Hashable {
    public enum Target: Sendable, Hashable {
        case row(FormRow)
        case filter
        /// The tags of a saved image.
        case tags(jobID: String)
        /// What mask mode's rectangles or extend mode's new area are painted with (Enter sends Fill).
        case fillPrompt
    }
    public var target: Target
    public var editor: TextEditor

    public init(target: Target, editor: TextEditor) {
        self.target = target
        self.editor = editor
    }
}

/// What makes two submissions the same request: the form and the region.
public struct SubmissionKey: Sendable, Hashable {
    public var form: SubmissionForm
    public var region: Region?
}

/// A question waiting for y/n.
public enum Confirmation: Sendable, Hashable {
    case quit
    case abandon(jobID: String)
    case delete(jobID: String)
    /// A submission or re-run at or above `Budget.confirmAbove`, sent on y.
    /// A submission or re-run (one effect per request group), sent on y.
    /// `submission`: what the form sent, when it is a submission (the repeat guard remembers it
    /// once the y sends it).
    case spend([Effect], submission: SubmissionKey? = nil)
    /// Abandoning the sent, unfinished jobs of a group (they may still be charged).
    case abandonGroup(String)

    /// What is said when the answer is no (nothing, for staying in the studio).
    public var declined: String? {
        switch self {
        case .quit: nil
        case .abandon, .abandonGroup: "not abandoned: still followed"
        case .delete: "not deleted"
        case .spend: "not sent; nothing is charged"
        }
    }
}

/// A row of the jobs pane: a job, or a group (a submission of two or more jobs) standing for
/// its jobs, which follow it when it is open.
public enum JobRow: Sendable, Hashable {
    /// `index` into `jobs`; `grouped` when it is shown under its open group.
    case job(Int, grouped: Bool)
    case group(String, members: [Int])

    /// The identity of group `id`'s row (`AppState.rowKey`).
    static func groupKey(_ id: String) -> String { "group:" + id }
}

/// A read-only text shown over the panes (the prompts a matrix makes, the body the form
/// would send); any key closes it.
public struct TextOverlay: Sendable, Hashable {
    public var title: String
    public var lines: [String]
}

/// How the studio says a group of jobs (or the whole queue) has finished (`[notify]`).
public struct NotifySettings: Sendable, Hashable {
    public enum Via: String, Sendable, Hashable, CaseIterable {
        /// The terminal bell.
        case bell
        /// A desktop notification through OSC 9 (iTerm2, kitty, WezTerm, Ghostty, foot, Windows Terminal).
        case osc9
        /// A desktop notification through OSC 777 (urxvt, foot, Ghostty).
        case osc777
        /// The bell and OSC 9.
        case both
        case off
    }

    public var via: Via
    /// Only groups that took at least this long (a quick one is watched anyway).
    public var minSeconds: Double

    public init(via: Via = .both, minSeconds: Double = 10) {
        self.via = via
        self.minSeconds = minSeconds
    }
}

/// Spending limits from the configuration file.
public struct Budget: Sendable, Hashable {
    /// Most credits charged per calendar day (local time), including what is about to be sent.
    public var daily: Credits?
    /// Most credits charged by one studio session.
    public var session: Credits?
    /// A submission or re-run estimated at this or more asks first; nil (or 0 in the
    /// configuration) never asks.
    public var confirmAbove: Credits?
    /// The balance is shown in red below this, and a submission that would leave less says so
    /// once a session (`[budget] warn_below`).
    public var warnBelow: Credits?

    /// `confirmAbove` unless the configuration says otherwise: 100 credits ($1.00).
    public static let defaultConfirmAbove = Credits(100)

    /// The same submission (prompt, settings, models, region) again within
    /// `repeatWindow` asks first (`[budget] repeat_guard`, on unless set false).
    public var repeatGuard: Bool

    /// How soon a repeat counts as a second Enter rather than a choice.
    public static let repeatWindow: TimeInterval = 2

    public init(daily: Credits? = nil, session: Credits? = nil, confirmAbove: Credits? = Budget.defaultConfirmAbove, warnBelow: Credits? = nil,
                repeatGuard: Bool = true) {
        self.daily = daily
        self.session = session
        self.confirmAbove = confirmAbove
        self.warnBelow = warnBelow
        self.repeatGuard = repeatGuard
    }
}

/// Everything the studio shows. Only `reduce` changes it.
public struct AppState: Sendable {
    public internal(set) var editor = TextEditor() {
        didSet { if editor.lines != oldValue.lines { matrix = Self.matrix(of: editor) } }
    }
    /// The prompts the prompt's `{a|b}` groups make (one, unescaped, without groups), or why
    /// it cannot be expanded; worked out when the text changes, not each time it is read.
    public private(set) var matrix = AppState.matrix(of: TextEditor())
    /// Which key does what; help and the status bar are made from it.
    public internal(set) var keymap = Keymap.standard
    public internal(set) var modelIndex: Int
    public internal(set) var sizeIndex = 0
    public internal(set) var count = 1
    /// What the count row steps through.
    static let counts = 1...24
    public internal(set) var settings = Settings()
    /// The region new jobs go to; nil when the endpoint has no regions (a proxy without
    /// `[endpoint.regions]`).
    public internal(set) var region: Region?
    /// The regions the endpoint has, in order (the region row steps through them).
    public internal(set) var regions: [Region] = []
    public internal(set) var formIndex = 0
    public internal(set) var fieldEdit: FieldEdit?
    /// The model picker overlay, when open: the highlighted catalog index.
    public internal(set) var picker: Int?
    public internal(set) var focus = Focus.prompt
    /// Jobs of this session and recent ones, newest first. Changed only by `reduce`, which
    /// keeps `derived` in step.
    public internal(set) var jobs: [JobRecord] = []
    /// Totals and lists computed from `jobs` when they change, not on every frame.
    public internal(set) var derived = Derived()
    public internal(set) var progress: [String: Double] = [:]
    public internal(set) var jobsList = ListState()
    public internal(set) var outputsList = ListState()
    /// The outputs filter: words, plus `model:` and `status:` tokens.
    public internal(set) var outputsFilter = "" {
        didSet { if outputsFilter != oldValue { outputsFilterSince = now } }
    }
    /// When the filter last changed: images that finished since and do not match it are
    /// counted in the pane's title, so fresh work is never hidden without a word.
    public internal(set) var outputsFilterSince: Date?
    /// Whether the ledger may hold older images (for the filter in force) than those loaded;
    /// they are read as the list is scrolled to its end.
    public internal(set) var olderOutputsMayExist = false
    /// A read of older images is under way.
    public internal(set) var loadingOutputs = false
    /// The number of the latest read of images asked for: a reply to an older one (a filter
    /// changed while it ran) adds its images but does not end the newer read.
    public internal(set) var outputsGeneration = 0
    /// The job whose details are shown in an overlay.
    public internal(set) var details: String?
    /// The saved image shown full-screen in the viewer (a job id).
    public internal(set) var viewer: String?
    /// The gallery (a grid of the filtered images) is open; its selection is the outputs list's.
    public internal(set) var gallery = false
    /// A text shown over the panes (`x`, `p` in the form).
    public internal(set) var textOverlay: TextOverlay?
    /// How finished groups are announced.
    public internal(set) var notify = NotifySettings()
    /// Models marked in the model list: a submission goes to each (empty: the current model).
    public internal(set) var comparedModels: [String] = []
    /// Groups whose jobs are shown under their row.
    public internal(set) var expandedGroups: Set<String> = []
    /// The spend view is open (`$`); `spending` is what it shows once read.
    public internal(set) var spendOpen = false
    public internal(set) var spending: SpendOverview?
    /// The low-balance notice was shown this session (it is shown once).
    public internal(set) var lowBalanceWarned = false
    /// The last submission sent, and when: what the repeat guard compares.
    var lastSubmission: (key: SubmissionKey, at: Date)?
    /// The editing model last submitted with a reference image; `e` on an image takes it.
    public internal(set) var lastEditingModelID = Catalog.defaultEditingModelID
    /// The child `]` showed last, so the next `]` shows the one after it.
    var familyCursor: String?
    /// Mask mode over the viewer's picture (m), nil when it is not on.
    public internal(set) var maskEdit: MaskEdit?
    /// Extend mode over the viewer's picture (x), nil when it is not on.
    public internal(set) var extendEdit: ExtendEdit?

    /// The cells the viewer's picture is drawn in now (nil when no picture is shown).
    public var viewerPictureCells: Rect? {
        guard let id = viewer, let path = jobs.first(where: { $0.id == id })?.outputPath,
              let picture = viewerPictures[path] ?? previews[path],
              let area = StudioLayout.viewer(width: width, height: max(0, height - 1))?.image else { return nil }
        let cells = Picture.fitted(width: picture.width, height: picture.height, in: area)
        return cells.isEmpty ? nil : cells
    }
    /// Images marked for comparison (job ids, in the order marked; four at most).
    public internal(set) var marked: [String] = []
    /// The marked images are shown side by side.
    public internal(set) var comparing = false
    /// Larger pictures of saved images, for the viewer.
    public internal(set) var viewerPictures: [String: Picture] = [:]
    /// Small pictures of saved images, decoded and scaled off the main loop; at most
    /// `previewCapacity`, the least recently loaded that nothing shows given up first (a
    /// long browse would otherwise keep every thumbnail it passed).
    public internal(set) var previews: [String: Picture] = [:]
    /// The paths of `previews`, in the order they were loaded.
    var previewOrder: [String] = []
    public static let previewCapacity = 512
    /// Paths whose preview could not be made (not asked for again).
    public internal(set) var previewFailures: [String: String] = [:]
    public internal(set) var message: Message?
    public internal(set) var showHelp = false
    /// The first line of the help shown (the help scrolls when the terminal is short).
    public internal(set) var helpScroll = 0
    public internal(set) var confirming: Confirmation?
    /// "SIMULATOR — no credits spent" when running against the built-in simulator.
    public internal(set) var modeLabel: String?
    /// Whether jobs still running at quit carry on (at BFL) and are resumed next time; false
    /// on the built-in simulator, which stops with the studio.
    public internal(set) var jobsOutliveSession = true
    public internal(set) var credits: Credits?
    /// The newest balance read whose answer has arrived.
    public internal(set) var creditsSequence = 0
    public internal(set) var budget = Budget()
    /// The engine's limits of active tasks: on the account (`--max-active`) and for Kontext
    /// [max]; the cost pane's slot gauges show them.
    public internal(set) var slotLimits = (account: 24, kontextMax: 6)
    /// Credits charged today by jobs that are not in `jobs` (from the ledger at start).
    public internal(set) var chargedTodayElsewhere: Credits = .zero
    /// Jobs that belong to this session (for the session's charged total).
    public internal(set) var sessionJobIDs: Set<String> = []
    /// Unfinished jobs of the ledger that this session does not follow (another endpoint's).
    public internal(set) var detachedJobIDs: Set<String> = []
    /// The pid of the fluxdeck process that follows a detached job, where the ledger says.
    public internal(set) var elsewherePIDs: [String: Int32] = [:]
    public internal(set) var width = 80
    public internal(set) var height = 24
    public internal(set) var tick = 0
    /// The wall-clock time of the last tick, for elapsed times.
    public internal(set) var now: Date
    public internal(set) var calendar = Calendar.current
    public internal(set) var promptScroll = 0

    public struct Message: Sendable, Hashable {
        public var text: String
        public var isError: Bool
        /// Cleared as soon as what it announces happens (the submitted jobs appear).
        public var transient: Bool

        public init(text: String, isError: Bool, transient: Bool = false) {
            self.text = text
            self.isError = isError
            self.transient = transient
        }
    }

    /// The studio at start: the model, what the title bar says about the endpoint, the region
    /// (nil: the endpoint has none), the keys, the budget, and whether jobs outlive the session.
    public init(modelID: String = "flux-2-pro", modeLabel: String? = nil, region: Region? = nil, now: Date = Date(),
                keymap: Keymap = .standard, budget: Budget = Budget(), jobsOutliveSession: Bool = true, regions: [Region]? = nil,
                notify: NotifySettings = NotifySettings(), slotLimits: (account: Int, kontextMax: Int) = (24, 6)) {
        self.notify = notify
        self.slotLimits = slotLimits
        modelIndex = Catalog.all.firstIndex { $0.id == modelID } ?? 0
        self.modeLabel = modeLabel
        self.region = region
        self.regions = regions ?? (region == nil ? [] : Region.allCases)
        self.now = now
        self.keymap = keymap
        self.budget = budget
        self.jobsOutliveSession = jobsOutliveSession
    }

    /// The outputs pane shows its filter line (a filter is set or being typed).
    public var outputsFilterShown: Bool { !outputsFilter.isEmpty || fieldEdit?.target == .filter }

    /// Images that finished after the filter was set and that it hides.
    public var newOutsideFilter: Int {
        guard !outputsFilter.isEmpty, let since = outputsFilterSince else { return 0 }
        let shown = Set(filteredOutputs.map(\.id))
        return outputs.filter { !shown.contains($0.id) && ($0.finishedAt ?? $0.createdAt) > since }.count
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

    /// A size or aspect ratio typed in (`e` on the size row), used instead of the presets.
    public var customSize: String?

    public var sizeChoice: String { customSize ?? sizeChoices[min(sizeIndex, sizeChoices.count - 1)] }

    /// How many reference slots the model has (Fill: the image and the mask).
    public var referenceSlots: Int {
        model.sizeRule == .sameAsImage ? 2 : model.maxReferences
    }

    /// The form rows for the current model, in order.
    public var formRows: [FormRow] {
        let tuning = model.tuningFields
        var rows: [FormRow] = [.model, .region, .size, .count, .seed, .format, .safety]
        if tuning.contains(.steps) { rows.append(.steps) }
        if tuning.contains(.guidance) { rows.append(.guidance) }
        if tuning.contains(.promptUpsampling) || tuning.contains(.disablePup) { rows.append(.upsampling) }
        if tuning.contains(.raw) { rows.append(.raw) }
        rows += (0..<referenceSlots).map(FormRow.reference)
        return rows
    }

    public var formRow: FormRow { formRows[min(formIndex, formRows.count - 1)] }

    public var format: OutputFormat { settings.format ?? model.defaultOutputFormat }
    public var safety: Int { settings.safety ?? 2 }
    public var steps: Int? {
        model.family.stepsRange.map { settings.steps?.clamped(to: $0) ?? (model.family == .dev ? 28 : 50) }
    }
    public var guidance: Double? {
        model.family.guidanceRange.map { settings.guidance?.clamped(to: $0) ?? (model.family == .fill ? 60 : (model.family == .dev ? 3 : 4.5)) }
    }

    /// The reference slots that are filled, in slot order.
    public var filledReferences: [(slot: Int, reference: ReferenceSlot)] {
        (0..<referenceSlots).compactMap { slot in
            guard let reference = settings.references[slot], !reference.path.isEmpty else { return nil }
            return (slot, reference)
        }
    }

    /// Why the chosen references cannot be sent, each a sentence, before anything is: a file
    /// that is not a usable image (its problem as read), and for Fill a mask whose size is not
    /// the image's.
    /// The local reference whose thumbnail the Model pane shows: the selected reference row's
    /// when the cursor is on one, else the first filled slot's (a web address has none).
    public var shownReference: (slot: Int, path: String)? {
        let local = filledReferences.filter { !LocalImages.isURL($0.reference.path) }
        if focus == .model, case .reference(let slot) = formRow, let selected = local.first(where: { $0.slot == slot }) {
            return (selected.slot, selected.reference.path)
        }
        return local.first.map { ($0.slot, $0.reference.path) }
    }

    /// `job`'s family among the loaded jobs: its parents (the ids of those not loaded apart) and
    /// the jobs made from it, oldest first.
    public func family(of job: JobRecord) -> (parents: [JobRecord], unloaded: [String], children: [JobRecord]) {
        let parents = job.parents.compactMap { id in jobs.first { $0.id == id } }
        let unloaded = job.parents.filter { id in !parents.contains { $0.id == id } }
        let children = jobs.filter { $0.parents.contains(job.id) }.sorted { $0.createdAt < $1.createdAt }
        return (parents, unloaded, children)
    }

    /// Whether ←→ steps `row` here: not a typed row, not the size Fill takes from its image,
    /// not the region of an endpoint that has none. The hints and the ◂ ▸ marks follow it.
    public func steps(_ row: FormRow) -> Bool {
        switch row {
        case .size: model.sizeRule != .sameAsImage
        case .region: region != nil
        default: !row.isText
        }
    }

    public var referenceProblems: [String] {
        var problems = filledReferences.compactMap { filled in filled.reference.problem.map { "ref \(filled.slot + 1): \($0)" } }
        if model.sizeRule == .sameAsImage, let image = settings.references[0]?.size, let mask = settings.references[1]?.size, image != mask {
            problems.append("the mask is \(mask.width)×\(mask.height) and the image \(image.width)×\(image.height); Fill needs them the same size")
        }
        return problems
    }

    /// The request the prompt and settings describe. Reference images are sent as the paths'
    /// contents; here they carry only their path and size (the driver reads the files).
    public var parameters: GenerationParameters {
        var parameters = GenerationParameters(prompt: TerminalText.sanitizeKeepingNewlines(editor.text))
        if parameters.prompt?.isEmpty == true, !model.family.requiresPrompt { parameters.prompt = nil }
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
        parameters.seed = settings.seed
        parameters.outputFormat = settings.format
        parameters.safetyTolerance = settings.safety
        if model.family.stepsRange != nil, settings.steps != nil { parameters.steps = steps }
        if model.family.guidanceRange != nil, settings.guidance != nil { parameters.guidance = guidance }
        if settings.upsampling != nil, formRows.contains(.upsampling) { parameters.promptUpsampling = settings.upsampling }
        func reference(_ slot: ReferenceSlot) -> ImageReference { ImageReference(value: slot.path, size: slot.size, label: slot.path) }
        if model.sizeRule == .sameAsImage {
            parameters.image = filledReferences.first { $0.slot == 0 }.map { reference($0.reference) }
            parameters.mask = filledReferences.first { $0.slot == 1 }.map { reference($0.reference) }
        } else {
            parameters.references = filledReferences.map { reference($0.reference) }
        }
        return parameters
    }

    /// The live estimate for what would be submitted now.
    public var estimate: CostEstimate { estimate(model, parameters) }

    /// What one submission of `parameters` to `model` costs: every image of every prompt.
    func estimate(_ model: Model, _ parameters: GenerationParameters) -> CostEstimate {
        PriceEstimator.estimate(model: model, parameters: parameters, count: count * promptCount)
    }

    static func matrix(of editor: TextEditor) -> Result<[String], PromptMatrix.Problem> {
        let text = TerminalText.sanitizeKeepingNewlines(editor.text)
        do { return .success(try PromptMatrix.expand(text)) } catch { return .failure(error) }
    }

    /// How many prompts one submission sends (1 unless the prompt is a matrix).
    public var promptCount: Int { max(1, (try? matrix.get().count) ?? 1) }

    /// Downloaded images, newest first.
    public var outputs: [JobRecord] { derived.outputs }

    /// The outputs the filter lets through.
    public var filteredOutputs: [JobRecord] { derived.filteredOutputs }

    /// Jobs not finished (queued here or in flight).
    public var runningCount: Int { derived.unfinished }

    /// Jobs holding a slot at BFL (sent and not finished), in all and for Kontext [max].
    public var activeSlots: (total: Int, kontextMax: Int) { (derived.active, derived.kontextMaxActive) }

    /// Credits charged for this session's jobs.
    public var sessionCharged: Credits { derived.sessionCharged }

    /// Credits charged today: this session's and earlier runs' jobs created today.
    public var todayCharged: Credits { derived.todayChargedInList + chargedTodayElsewhere }

    /// Credits of jobs sent or queued but not yet charged (their estimates).
    public var pendingEstimate: Credits { derived.pendingEstimate }

    /// Recomputes `derived` from the jobs, the filter and the day.
    mutating func refreshDerived() {
        var d = Derived()
        d.day = calendar.startOfDay(for: now)
        d.dayEnd = calendar.date(byAdding: .day, value: 1, to: d.day) ?? d.day.addingTimeInterval(86_400)
        let filter = OutputQuery(outputsFilter, calendar: calendar)
        let family = filter.family.map { Lineage.family(ofPrefix: $0, in: jobs) }
        for job in jobs {
            if job.outputPath != nil {
                d.outputs.append(job)
                if filter.matches(job, family: family) { d.filteredOutputs.append(job) }
            }
            let charged = job.chargedCredits
            if !job.phase.isFinal, !detachedJobIDs.contains(job.id) {
                d.unfinished += 1
                if job.phase != .queued, job.phase != .downloading {
                    d.active += 1
                    if job.model == "flux-kontext-max" { d.kontextMaxActive += 1 }
                }
                if charged == nil { d.pendingEstimate += job.estimate }
            }
            if let charged {
                if sessionJobIDs.contains(job.id) { d.sessionCharged += charged }
                if (d.day..<d.dayEnd).contains(job.createdAt) { d.todayChargedInList += charged }
            }
        }
        if filter.oldestFirst { d.filteredOutputs.sort { ($0.createdAt, $0.id) < ($1.createdAt, $1.id) } }
        // Rows: a group of two or more jobs is one row where its newest job stands, its jobs
        // under it when it is open; every other job is a row of its own.
        var members: [String: [Int]] = [:]
        for (index, job) in jobs.enumerated() { if let group = job.groupID { members[group, default: []].append(index) } }
        var placed: Set<String> = []
        d.jobRows.reserveCapacity(jobs.count)
        for (index, job) in jobs.enumerated() {
            if let group = job.groupID, let indices = members[group], indices.count > 1 {
                guard placed.insert(group).inserted else { continue }
                d.jobRows.append(.group(group, members: indices))
                if expandedGroups.contains(group) { d.jobRows += indices.map { .job($0, grouped: true) } }
            } else {
                d.jobRows.append(.job(index, grouped: false))
            }
        }
        derived = d
    }

    /// The rows of the jobs pane.
    public var jobRows: [JobRow] { derived.jobRows }

    public var selectedRow: JobRow? {
        jobsList.selected.flatMap { $0 < jobRows.count ? jobRows[$0] : nil }
    }

    /// The selected job of the jobs pane (nil on a group's row), and of the outputs pane.
    public var selectedJob: JobRecord? {
        guard case .job(let index, _)? = selectedRow, index < jobs.count else { return nil }
        return jobs[index]
    }

    /// The group of the selected row: the group row itself, or a job shown under it.
    public var selectedGroup: (id: String, members: [JobRecord])? {
        switch selectedRow {
        case .group(let id, let indices)?: return (id, indices.filter { $0 < jobs.count }.map { jobs[$0] })
        case .job(let index, true)? where index < jobs.count:
            guard let id = jobs[index].groupID else { return nil }
            return (id, jobs.filter { $0.groupID == id })
        default: return nil
        }
    }

    /// A row's identity, kept while rows come and go above it.
    func rowKey(_ row: Int) -> String? {
        row < jobRows.count ? key(of: jobRows[row]) : nil
    }

    func rowIndex(_ key: String) -> Int? {
        jobRows.firstIndex { self.key(of: $0) == key }
    }

    private func key(of row: JobRow) -> String? {
        switch row {
        case .job(let index, _): index < jobs.count ? "job:" + jobs[index].id : nil
        case .group(let id, _): JobRow.groupKey(id)
        }
    }

    public var selectedOutput: JobRecord? {
        let outputs = filteredOutputs
        return outputsList.selected.flatMap { $0 < outputs.count ? outputs[$0] : nil }
    }
}

/// What the views need from the job list, computed once per change.
public struct Derived: Sendable {
    public var outputs: [JobRecord] = []
    public var jobRows: [JobRow] = []
    public var filteredOutputs: [JobRecord] = []
    public var unfinished = 0
    public var active = 0
    public var kontextMaxActive = 0
    public var sessionCharged: Credits = .zero
    public var todayChargedInList: Credits = .zero
    public var pendingEstimate: Credits = .zero
    /// The day `todayChargedInList` counts, from its start to the next day's.
    public var day = Date.distantPast
    public var dayEnd = Date.distantPast

    /// Whether `date` falls outside that day (the totals are then refreshed).
    func isOtherDay(_ date: Date) -> Bool { !(day..<dayEnd).contains(date) }
}


/// What happens to the studio.
public enum Action: Sendable {
    case key(Key)
    /// Text pasted into the terminal: it goes to the field being edited, else to the prompt.
    case paste(String)
    case mouse(MouseEvent)
    case resize(width: Int, height: Int)
    case jobUpdated(JobRecord)
    /// A job another fluxdeck process follows, as the ledger shows it (with its pid if known).
    case jobElsewhere(JobRecord, ownerPID: Int32?)
    case jobProgress(id: String, progress: Double)
    /// The balance; `sequence` numbers the reads (a late reply to an older read is dropped).
    case creditsLoaded(Credits?, sequence: Int = 0)
    /// The balance could not be read (a bad key shows here first).
    case creditsFailed(String, sequence: Int = 0)
    /// Jobs from the ledger; `detached` are unfinished ones this session does not follow
    /// (made against another endpoint): shown, but not counted as running.
    case jobsLoaded([JobRecord], detached: Set<String> = [])
    /// Credits charged today by ledger jobs not loaded into the list.
    case chargedTodayLoaded(Credits)
    case submitFailed(String)
    /// Something the studio asked for could not be done: `what` names it ("cancel 1a2b3c4d").
    case effectFailed(what: String, reason: String)
    case referenceInspected(slot: Int, path: String, size: PixelSize?, problem: String?)
    /// The size of a saved image, read from its header (`Effect.readImageSize`), or why not.
    case imageSizeRead(path: String, size: PixelSize?, problem: String?)
    /// A preview, or why there is none (a damaged, oversized or foreign file).
    case previewLoaded(path: String, Picture?, problem: String? = nil, large: Bool = false)
    /// Images read from the ledger for `filter` (older ones, or a search); `exhausted` when the
    /// ledger has no more.
    /// Images read from the ledger; `generation` is the read's (nil: not a reply to a read).
    case outputsLoaded([JobRecord], filter: String, exhausted: Bool, generation: Int? = nil)
    case outputDeleted(jobID: String, problem: String?)
    /// A job's star or tags changed in the ledger (and its sidecar).
    case jobCurated(JobRecord)
    /// What the spend view shows, read from the ledger.
    case spendLoaded(SpendOverview)
    /// The outcome of an outside action (open, copy), for the message line.
    case notice(String, isError: Bool)
    case tick(Date)
    /// The form as the last session left it (`RememberedForm`).
    case formRestored(RememberedForm)
    /// What a path typed in a field completes to (`Effect.completePath`).
    case pathCompleted(typed: String, PathCompletion)
    /// The time, as input arrives (the repeat guard measures between two Enters).
    case clock(Date)
}

/// What the studio asks the outside world to do; results come back as actions.
public enum Effect: Sendable, Hashable {
    /// Submit `count` jobs; reference values in `parameters` are paths the driver reads.
    /// `sharedSeedOffset`: in a comparison without a seed, the seed is the submission's shared
    /// one (drawn when sent) plus this (`SubmissionPlan.Batch`).
    case submit(modelID: String, parameters: GenerationParameters, count: Int, region: Region?, sharedSeedOffset: Int? = nil)
    case cancel(jobID: String)
    case abandon(jobID: String)
    case rerun(jobID: String, newSeed: Bool)
    /// Download again the image of a job whose save failed (nothing goes to BFL).
    case retrySave(jobID: String)
    case inspectReference(slot: Int, path: String)
    /// Fill on a saved image: the cells' rectangles become a mask of the image's exact size
    /// (read by the driver), sent with the image and `prompt`.
    case repaint(path: String, rects: [GridRect], inverted: Bool, prompt: String, region: Region?)
    /// Fill on a saved image grown by `sides`: the larger canvas (the new area filled from the
    /// edges) and the mask of the new area, made by the driver, sent with `prompt`.
    case extend(path: String, sides: CanvasExtension, prompt: String, region: Region?)
    /// Read a saved image's size from its header.
    case readImageSize(path: String)
    /// Lists what `text` (a path being typed in a reference field) may complete to.
    case completePath(text: String)
    case loadPreview(path: String, large: Bool = false)
    /// Read up to a page of saved images older than `before` that match `filter`.
    case loadOutputs(before: Date?, filter: String, generation: Int)
    case open(path: String)
    case copy(text: String)
    case deleteOutput(jobID: String)
    /// Stars or tags a saved image, in the ledger and its sidecar.
    case curate(jobID: String, starred: Bool, tags: [String])
    case refreshCredits
    /// Tell the person at the terminal (bell, desktop notification).
    case notify(title: String, body: String, via: NotifySettings.Via)
    /// Read the spend view's figures from the ledger.
    case loadSpend
    case quit
}

extension Comparable {
    /// This value, brought within `range`.
    func clamped(to range: ClosedRange<Self>) -> Self { min(max(self, range.lowerBound), range.upperBound) }
}

/// A job's cost as the lists show it: charged, estimated (~) while it may still be, and
/// nothing for a job that ended without being sent (cancelled in the queue, refused before a
/// task existed).
public func costText(_ job: JobRecord) -> String {
    if let charged = job.chargedCredits { return "\(charged)" }
    if job.phase.isFinal, job.taskID == nil { return "—" }
    return "~\(job.estimate)"
}
