import Foundation
import BFL

// The cluster search: a task submitted without a polling URL (webhook mode) lives on a
// cluster host that its front door does not answer for. When its call never came, it is looked
// for on the hosts the ledger has learned, the configured ones, and the front door it was sent to.

/// The cluster hosts this run has learned, by endpoint, most recently named first.
struct ClusterSearch {
    private var learned: [String: [URL]] = [:]

    /// The hosts the ledger's polling URLs have named for `endpoint`, read from `store` once
    /// a run (a scan of the ledger; hosts found later are tried from the configuration anyway).
    mutating func learnedHosts(endpoint: String, store: JobStore) -> [URL] {
        if let known = learned[endpoint] { return known }
        let bases = ((try? store.pollingURLsByHost(endpoint: endpoint)) ?? []).compactMap(Self.base(ofPollingURL:))
        learned[endpoint] = bases
        return bases
    }

    /// Puts the host of a polling URL BFL just gave first among the learned ones (once they
    /// have been read).
    mutating func learn(from pollingURL: String, endpoint: String) {
        guard var bases = learned[endpoint], let base = Self.base(ofPollingURL: pollingURL) else { return }
        bases.removeAll { $0 == base }
        bases.insert(base, at: 0)
        learned[endpoint] = bases
    }

    /// What comes before the API path of a polling URL (a proxy may add a prefix of its own).
    static func base(ofPollingURL url: String) -> URL? {
        guard let cut = url.range(of: "/v1/get_result") else { return nil }
        return URL(string: String(url[..<cut.lowerBound]))
    }
}

extension JobEngine {
    /// Looks for a task that came without a polling URL on the cluster hosts: those this
    /// endpoint's polling URLs have named (most recent first), those configured, and the
    /// front door it was sent to. The first that knows it becomes the job's polling URL; nil
    /// when none does (each answered 404 or "Task not found", or could not be reached).
    func locate(_ job: inout JobRecord, tried: String) async throws -> (url: String, reply: PollResponse)? {
        guard let taskID = job.taskID else { return nil }
        var bases = clusters.learnedHosts(endpoint: job.endpoint, store: store)
        bases += client.configuration.clusters
        if let region = job.region.flatMap(Region.init(rawValue:)) ?? Region(rawValue: job.endpoint) {
            bases.append(client.frontDoor(for: region))
        }
        var seen: Set<String> = [tried]
        for base in bases {
            let url = BFLClient.pollingURL(taskID: taskID, on: base)
            guard seen.insert(url).inserted else { continue }
            try Task.checkCancellation()
            job.polls += 1
            guard let reply = try? await client.poll(url) else { continue }
            if case .taskNotFound = reply.status { continue }
            job.pollingURL = url
            job.clusterHost = URL(string: url).flatMap(Self.authority(of:))
            followed[job.id]?.webhookOnly = false
            try record(job, detail: "found on \(job.clusterHost ?? url): its submission came without a polling URL")
            return (url, reply)
        }
        return nil
    }
}
