import BFL

/// One FastAPI/pydantic-style validation item, as the real API sends them in a 422.
struct SchemaIssue: Sendable, Hashable {
    var loc: [String]
    var msg: String
    var type: String

    var json: JSONValue {
        .object(["loc": .array(loc.map(JSONValue.string)), "msg": .string(msg), "type": .string(type)])
    }
}

/// The request schemas of the BFL API, as strict as BFL's own (unknown fields rejected).
enum Schema {
    enum Kind: Sendable {
        case string(maxLength: Int? = nil, minLength: Int? = nil)
        case integer(ClosedRange<Int>? = nil, multipleOf: Int? = nil)
        case number(ClosedRange<Double>)
        case boolean
        case outputFormat
    }

    struct Field: Sendable {
        var name: String
        var kind: Kind
        var required = false
    }

    static func fields(for model: Model) -> [Field] {
        let family = model.family
        var fields: [Field] = [
            Field(name: "seed", kind: .integer()),
            Field(name: "output_format", kind: .outputFormat),
            Field(name: "safety_tolerance", kind: .integer(family.safetyRange)),
            Field(name: "webhook_url", kind: .string(maxLength: 2083, minLength: 1)),
            Field(name: "webhook_secret", kind: .string()),
            Field(name: "user", kind: .string(maxLength: 256, minLength: 1)),
        ]
        func slots(_ count: Int) -> [Field] {
            (1...count).map { Field(name: $0 == 1 ? "input_image" : "input_image_\($0)", kind: .string()) }
        }
        // Side limits from the catalog's size rules: what fluxdeck validates is what the
        // simulator enforces (FLUX.2 rounds odd sides down instead of refusing them).
        func sides(_ rule: SizeRule) -> [Field] {
            guard let limits = rule.sideLimits else { return [] }
            let multiple = limits.oddSides == .refuse ? limits.multiple : nil
            return ["width", "height"].map { Field(name: $0, kind: .integer(limits.sides, multipleOf: multiple)) }
        }
        let f2Sides = sides(.flux2)
        let p11Sides = sides(.pro11)
        let upsampling = Field(name: "prompt_upsampling", kind: .boolean)
        switch family {
        case .flux2:
            fields += [Field(name: "prompt", kind: .string(), required: true), Field(name: "disable_pup", kind: .boolean)]
            fields += slots(model.maxReferences) + f2Sides
        case .flex:
            fields += [Field(name: "prompt", kind: .string(), required: true), upsampling,
                       Field(name: "guidance", kind: .number(1.5...10)), Field(name: "steps", kind: .integer(1...50))]
            fields += slots(model.maxReferences) + f2Sides
        case .klein:
            fields += [Field(name: "prompt", kind: .string(), required: true)] + slots(model.maxReferences) + f2Sides
        case .kontext:
            fields += [Field(name: "prompt", kind: .string(), required: true), Field(name: "aspect_ratio", kind: .string()), upsampling]
            fields += slots(model.maxReferences)
        case .pro11:
            fields += [Field(name: "prompt", kind: .string()), Field(name: "image_prompt", kind: .string()), upsampling] + p11Sides
        case .ultra:
            fields += [Field(name: "prompt", kind: .string()), Field(name: "aspect_ratio", kind: .string()),
                       Field(name: "raw", kind: .boolean), Field(name: "image_prompt", kind: .string()),
                       Field(name: "image_prompt_strength", kind: .number(0...1)), upsampling]
        case .fill:
            fields += [Field(name: "image", kind: .string(), required: true), Field(name: "mask", kind: .string()),
                       Field(name: "prompt", kind: .string()), Field(name: "steps", kind: .integer(15...50)),
                       Field(name: "guidance", kind: .number(1.5...100)), upsampling]
        case .dev:
            fields += [Field(name: "prompt", kind: .string()), Field(name: "image_prompt", kind: .string()), upsampling,
                       Field(name: "steps", kind: .integer(1...50)), Field(name: "guidance", kind: .number(1.5...5))]
            fields += p11Sides
        }
        return fields
    }

    /// Every schema problem of `body` for `model`, in field order, unknown fields last.
    static func validate(_ body: [String: JSONValue], for model: Model) -> [SchemaIssue] {
        let fields = fields(for: model)
        var issues: [SchemaIssue] = []
        for field in fields {
            let value = body[field.name]
            guard let value, value != .null else {
                if field.required {
                    issues.append(SchemaIssue(loc: ["body", field.name], msg: "Field required", type: "missing"))
                }
                continue
            }
            if let issue = check(value, field) { issues.append(issue) }
        }
        let known = Set(fields.map(\.name))
        for key in body.keys.sorted() where !known.contains(key) {
            issues.append(SchemaIssue(loc: ["body", key], msg: "Extra inputs are not permitted", type: "extra_forbidden"))
        }
        if issues.isEmpty {
            issues += crossFieldIssues(body, model: model)
        }
        return issues
    }

    private static func check(_ value: JSONValue, _ field: Field) -> SchemaIssue? {
        let loc = ["body", field.name]
        switch field.kind {
        case .string(let maxLength, let minLength):
            guard case .string(let text) = value else {
                return SchemaIssue(loc: loc, msg: "Input should be a valid string", type: "string_type")
            }
            if let maxLength, text.count > maxLength {
                return SchemaIssue(loc: loc, msg: "String should have at most \(maxLength) characters", type: "string_too_long")
            }
            if let minLength, text.count < minLength {
                return SchemaIssue(loc: loc, msg: "String should have at least \(minLength) character\(minLength == 1 ? "" : "s")", type: "string_too_short")
            }
        case .integer(let range, let multipleOf):
            guard case .number(let number) = value, number == number.rounded(), abs(number) < 9e15 else {
                return SchemaIssue(loc: loc, msg: "Input should be a valid integer", type: "int_type")
            }
            let int = Int(number)
            if let range, int < range.lowerBound {
                return SchemaIssue(loc: loc, msg: "Input should be greater than or equal to \(range.lowerBound)", type: "greater_than_equal")
            }
            if let range, int > range.upperBound {
                return SchemaIssue(loc: loc, msg: "Input should be less than or equal to \(range.upperBound)", type: "less_than_equal")
            }
            if let multipleOf, int % multipleOf != 0 {
                return SchemaIssue(loc: loc, msg: "Input should be a multiple of \(multipleOf)", type: "multiple_of")
            }
        case .number(let range):
            guard case .number(let number) = value else {
                return SchemaIssue(loc: loc, msg: "Input should be a valid number", type: "float_type")
            }
            if number < range.lowerBound {
                return SchemaIssue(loc: loc, msg: "Input should be greater than or equal to \(GenerationParameters.number(range.lowerBound))", type: "greater_than_equal")
            }
            if number > range.upperBound {
                return SchemaIssue(loc: loc, msg: "Input should be less than or equal to \(GenerationParameters.number(range.upperBound))", type: "less_than_equal")
            }
        case .boolean:
            guard case .bool = value else {
                return SchemaIssue(loc: loc, msg: "Input should be a valid boolean", type: "bool_type")
            }
        case .outputFormat:
            guard case .string(let text) = value, ["jpeg", "png", "webp"].contains(text) else {
                return SchemaIssue(loc: loc, msg: "Input should be 'jpeg', 'png' or 'webp'", type: "enum")
            }
        }
        return nil
    }

    /// Rules that involve several fields: the FLUX.2 area cap and aspect ratio bounds.
    private static func crossFieldIssues(_ body: [String: JSONValue], model: Model) -> [SchemaIssue] {
        var issues: [SchemaIssue] = []
        if let maxPixels = model.sizeRule.sideLimits?.maxPixels, let w = body["width"]?.doubleValue, let h = body["height"]?.doubleValue,
           w * h > Double(maxPixels) {
            issues.append(SchemaIssue(loc: ["body"], msg: "Value error, width * height must be at most \(maxPixels) pixels", type: "value_error"))
        }
        if let ratio = body["aspect_ratio"]?.stringValue, GenerationParameters.aspectRatioProblem(ratio) != nil {
            issues.append(SchemaIssue(loc: ["body", "aspect_ratio"], msg: "Value error, aspect ratio must be between 21:9 and 9:21", type: "value_error"))
        }
        return issues
    }
}
