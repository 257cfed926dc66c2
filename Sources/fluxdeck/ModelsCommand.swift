import ArgumentParser
import FluxdeckApp
import BFL
import Foundation

struct ModelsCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "models",
        abstract: "List the models with their prices and limits.")

    @Flag(help: "Print JSON instead of a table.")
    var json = false

    func run() async throws {
        if json {
            try Output.json(Catalog.all.map(ModelInfo.init))
            return
        }
        let rows = Catalog.all.map { model in
            [model.id, model.displayName, Self.priceText(model.price), Self.sizeText(model.sizeRule),
             model.maxReferences == 0 ? "image+mask" : String(model.maxReferences), String(model.concurrencyLimit)]
        }
        let header = ["ID", "NAME", "PRICE (credits)", "SIZE", "REFS", "ACTIVE"]
        let widths = (0..<header.count).map { column in
            ([header] + rows).map { $0[column].count }.max() ?? 0
        }
        for row in [header] + rows {
            let cells = row.enumerated().map { index, cell in
                index == row.count - 1 ? cell : cell.padding(toLength: widths[index], withPad: " ", startingAt: 0)
            }
            Output.line(cells.joined(separator: "  "))
        }
        Output.line("")
        Output.line("1 credit = $0.01. MP: the first output megapixel, then each extra output or input megapixel.")
    }

    static func priceText(_ price: PriceRule) -> String {
        switch price {
        case .flat(let credits): "\(credits) per image"
        case .megapixel(let first, let perMP): "MP \(first) + \(perMP)/MP"
        }
    }

    static func sizeText(_ rule: SizeRule) -> String { rule.summary }
}

/// The JSON shape of one catalog entry.
struct ModelInfo: Encodable {
    var id: String
    var name: String
    var path: String
    var family: String
    var maxReferences: Int
    var concurrencyLimit: Int
    var size: String
    var price: Price
    var fields: [String]
    var raw: Bool

    struct Price: Encodable {
        var kind: String
        var credits: Credits?
        var firstMP: Credits?
        var perMP: Credits?

        enum CodingKeys: String, CodingKey {
            case kind, credits, firstMP = "first_mp", perMP = "per_mp"
        }
    }

    enum CodingKeys: String, CodingKey {
        case id, name, path, family, size, price, fields, raw
        case maxReferences = "max_references", concurrencyLimit = "concurrency_limit"
    }

    init(_ model: Model) {
        id = model.id
        name = model.displayName
        path = model.path
        family = model.family.rawValue
        maxReferences = model.maxReferences
        concurrencyLimit = model.concurrencyLimit
        size = ModelsCommand.sizeText(model.sizeRule)
        switch model.price {
        case .flat(let credits): price = Price(kind: "flat", credits: credits)
        case .megapixel(let first, let perMP): price = Price(kind: "megapixel", firstMP: first, perMP: perMP)
        }
        fields = model.tuningFields.map(\.rawValue).sorted()
        raw = model.fixedFields["raw"] == true
    }
}
