import BFL
import Testing

@Suite("Catalog")
struct CatalogTests {
    @Test("every model of the contract is present with its corrected path")
    func allModelsWithPaths() throws {
        let expected: [(String, String, ModelFamily, Int, Int)] = [
            ("flux-2-klein-4b", "flux-2-klein-4b", .klein, 4, 24),
            ("flux-2-klein-9b", "flux-2-klein-9b", .klein, 4, 24),
            ("flux-2-pro", "flux-2-pro", .flux2, 8, 24),
            ("flux-2-max", "flux-2-max", .flux2, 8, 24),
            ("flux-2-flex", "flux-2-flex", .flex, 8, 24),
            ("flux-kontext-pro", "flux-kontext-pro", .kontext, 4, 24),
            ("flux-kontext-max", "flux-kontext-max", .kontext, 4, 6),
            ("flux-pro-1.1", "flux-pro-1.1", .pro11, 1, 24),
            ("flux-pro-1.1-ultra", "flux-pro-1.1-ultra", .ultra, 1, 24),
            ("flux-pro-1.1-ultra-raw", "flux-pro-1.1-ultra", .ultra, 1, 24),
            ("flux-pro-1.0-fill", "flux-pro-1.0-fill", .fill, 0, 24),
            ("flux-dev", "flux-dev", .dev, 1, 24),
        ]
        #expect(Catalog.all.map(\.id) == expected.map(\.0))
        for (id, path, family, refs, limit) in expected {
            let model = try #require(Catalog.model(id: id))
            #expect(model.path == path, "\(id)")
            #expect(model.family == family, "\(id)")
            #expect(model.maxReferences == refs, "\(id)")
            #expect(model.concurrencyLimit == limit, "\(id)")
        }
    }

    @Test("the seed's wrong paths are not in the catalog")
    func seedErrata() {
        let paths = Set(Catalog.all.map(\.path))
        for wrong in ["flux-kontext", "flux-fill", "flux-pro-1.1-raw", "flux-2-dev"] {
            #expect(!paths.contains(wrong))
        }
    }

    @Test("Raw posts to the Ultra path with raw: true")
    func rawPostsToUltra() throws {
        let raw = try #require(Catalog.model(id: "flux-pro-1.1-ultra-raw"))
        let prepared = try GenerationParameters(prompt: "a fox").prepare(for: raw)
        #expect(prepared.path == "flux-pro-1.1-ultra")
        let json = String(decoding: try prepared.jsonBody(), as: UTF8.self)
        #expect(json == #"{"prompt":"a fox","raw":true}"#)
        #expect(Catalog.model(path: "flux-pro-1.1-ultra")?.id == "flux-pro-1.1-ultra")
    }

    @Test("ids match without regard to case; unknown ids give nil")
    func lookup() {
        #expect(Catalog.model(id: "FLUX-2-PRO")?.id == "flux-2-pro")
        #expect(Catalog.model(id: "flux-3") == nil)
    }

    @Test("prices follow the contract")
    func prices() throws {
        let table: [(String, PriceRule)] = [
            ("flux-2-klein-4b", .megapixel(first: "1.4", perMP: "0.1")),
            ("flux-2-klein-9b", .megapixel(first: "1.5", perMP: "0.2")),
            ("flux-2-pro", .megapixel(first: "3", perMP: "1.5")),
            ("flux-2-max", .megapixel(first: "7", perMP: "3")),
            ("flux-2-flex", .megapixel(first: "5", perMP: "5")),
            ("flux-kontext-pro", .flat("4")), ("flux-kontext-max", .flat("8")),
            ("flux-pro-1.1", .flat("4")), ("flux-pro-1.1-ultra", .flat("6")),
            ("flux-pro-1.1-ultra-raw", .flat("6")), ("flux-pro-1.0-fill", .flat("5")),
            ("flux-dev", .flat("2.5")),
        ]
        for (id, price) in table {
            #expect(try #require(Catalog.model(id: id)).price == price, "\(id)")
        }
    }
}
