import BFL
import BFLSimulator
import Foundation
import Testing

@Suite("Simulator: three front doors, two clusters")
struct RegionTests {
    /// A client of the rig's simulator with its region map (as `[endpoint.regions]` declares it).
    func regional(_ rig: SimulatorTests.Rig) throws -> BFLClient {
        var configuration = rig.client.configuration
        configuration.regions = try RegionMap(texts: rig.server.regionURLs)
        return BFLClient(configuration: configuration, transport: rig.transport)
    }

    func body() throws -> [UInt8] {
        var parameters = GenerationParameters(prompt: "a fox")
        parameters.width = 256
        parameters.height = 256
        let prepared = try parameters.prepare(for: try #require(Catalog.model(id: "flux-2-pro")))
        return Array(try prepared.jsonBody())
    }

    @Test("eu and us keep tasks on their cluster; global takes turns; another host answers 404, an unknown id Task not found")
    func routing() async throws {
        try await SimulatorTests.withRig { rig in
            let client = try regional(rig)
            let eu = try await client.submit(path: "flux-2-pro", body: try body(), region: .eu)
            let us = try await client.submit(path: "flux-2-pro", body: try body(), region: .us)
            let first = try await client.submit(path: "flux-2-pro", body: try body(), region: .global)
            let second = try await client.submit(path: "flux-2-pro", body: try body(), region: .global)
            let euCluster = try #require(rig.server.urls[.cluster]), usCluster = try #require(rig.server.urls[.clusterUS])
            #expect(eu.pollingURL?.hasPrefix(euCluster) == true)
            #expect(us.pollingURL?.hasPrefix(usCluster) == true)
            #expect(Set([first.pollingURL?.hasPrefix(euCluster), second.pollingURL?.hasPrefix(euCluster)]) == [true, false])

            // The EU task polled on the US cluster: 404, as BFL answers a task on the wrong host.
            let wrong = try await rig.raw(.get, usCluster, "/v1/get_result?id=\(eu.id)", key: rig.server.apiKey)
            #expect(wrong.0 == 404)
            #expect(await rig.server.core.misdirectedPolls == 1)
            let unknown = try await rig.raw(.get, usCluster, "/v1/get_result?id=no-such-task", key: rig.server.apiKey)
            #expect(unknown.0 == 200 && unknown.1.contains("Task not found"))
            // On its own host it answers.
            let right = try await client.poll(try #require(eu.pollingURL))
            #expect(right.status == .pending || right.status == .generating)

            // The log names the hosts each request went to.
            let posts = await rig.server.core.requests.filter { $0.method == "POST" }.map(\.listener.host)
            #expect(posts == ["api.eu.bfl.ai", "api.us.bfl.ai", "api.bfl.ai", "api.bfl.ai"])
            let timelines = await rig.server.core.timelines
            #expect(timelines[eu.id]?.cluster == .cluster && timelines[us.id]?.cluster == .clusterUS)
        }
    }

    @Test("region-down=eu: the EU front door and cluster answer 503 naming the region, global goes to the US, the US is untouched")
    func outage() async throws {
        try await SimulatorTests.withRig({ $0.faults = try! Faults(spec: "region-down=eu") }) { rig in
            let client = try regional(rig)
            await #expect {
                _ = try await client.submit(path: "flux-2-pro", body: try body(), region: .eu)
            } throws: { error in
                "\(error)".contains("The EU region is unavailable")
            }
            let us = try await client.submit(path: "flux-2-pro", body: try body(), region: .us)
            let global = try await client.submit(path: "flux-2-pro", body: try body(), region: .global)
            let usCluster = try #require(rig.server.urls[.clusterUS])
            #expect(us.pollingURL?.hasPrefix(usCluster) == true && global.pollingURL?.hasPrefix(usCluster) == true)
            let downPoll = try await rig.raw(.get, try #require(rig.server.urls[.cluster]), "/v1/get_result?id=x", key: rig.server.apiKey)
            #expect(downPoll.0 == 503 && downPoll.1.contains("EU cluster is unavailable"))
        }
        #expect(throws: SimulatorError.self) { try Faults(spec: "region-down=global") }
        #expect(try Faults(spec: "region-down=eu+us").downRegions == [.eu, .us])
    }
}
