import ArgumentParser
import FluxdeckApp
import BFL
import Foundation
import Jobs
import TerminalCore

struct JobsCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "jobs",
        abstract: "The job ledger: list jobs, or resume what is unfinished.",
        subcommands: [JobsList.self, JobsResume.self],
        defaultSubcommand: JobsList.self)
}

struct JobsList: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "list", abstract: "List jobs, newest first.")

    @Flag(help: "One JSON object per job.") var json = false
    @Option(help: "Only jobs in this status (queued, submitting, pending, running, downloading, done, failed, moderated, expired, unknown, timed_out, cancelled, abandoned, save_failed).", completion: Completions.statuses)
    var status: [String] = []
    @Option(parsing: .unconditional, help: "At most this many jobs.") var limit: Int = 50

    func run() async throws {
        try await runReportingFailures {
            var phases: [JobPhase]?
            if !status.isEmpty {
                phases = try status.map { text in
                    guard let phase = JobPhase(rawValue: text.lowercased().replacingOccurrences(of: "-", with: "_")) else {
                        throw CommandFailure.usage("unknown status \"\(text)\"; known: \(JobPhase.allCases.map(\.rawValue).joined(separator: ", "))")
                    }
                    return phase
                }
            }
            guard limit > 0 else { throw CommandFailure.usage("--limit must be at least 1") }
            let store: JobStore
            do { store = try JobStore(path: JobStore.defaultPath()) } catch { throw CommandFailure(code: .usage, message: "\(error)") }
            let jobs = try store.jobs(phases: phases, limit: limit)
            if json {
                for job in jobs { try Output.jsonLine(JobReport(job)) }
                return
            }
            if jobs.isEmpty {
                Output.line("No jobs yet. Try: fluxdeck generate --simulator --model flux-2-pro --prompt \"a lighthouse at dusk\"")
                return
            }
            let formatter = DateFormatter()
            formatter.dateFormat = "yyyy-MM-dd HH:mm"
            Output.line([pad("job", 8), pad("created", 16), pad("status", 11), pad("model", 22), pad("cost", 6), "prompt"].joined(separator: "  "))
            for job in jobs {
                let cost = job.chargedCredits.map { "\($0)" } ?? "~\(job.estimate)"
                let prompt = TerminalText.sanitize(job.prompt)
                let excerpt = prompt.count > 40 ? String(prompt.prefix(39)) + "…" : prompt
                Output.line([job.shortID, formatter.string(from: job.createdAt), pad(job.phase.rawValue, 11),
                             pad(job.model, 22), pad(cost, 6), excerpt].joined(separator: "  "))
            }
        }
    }

    private func pad(_ text: String, _ width: Int) -> String { DisplayWidth.padded(text, to: width) }
}

struct JobsResume: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "resume",
        abstract: "Finish the jobs an earlier run left unfinished (polled again, never resent).")

    @OptionGroup var service: ServiceOptions
    @Option(name: .customLong("output-dir"), help: "Where images go (default ~/Pictures/fluxdeck).") var outputDir: String?
    @Flag(help: "One JSON object per job.") var json = false

    func run() async throws {
        try await runReportingFailures {
            let interrupts = Interrupts()
            defer { interrupts.stop() }
            var regions: [Region] = []
            let results: [JobRecord] = try await Session.with(service.settings, outputDirectory: outputDir) { session in
                regions = session.client.configuration.regions.regions
                let resumed: [JobRecord]
                do { resumed = try await session.engine.resume() } catch let error as JobStoreError {
                    throw CommandFailure(code: .jobFailed, message: error.message)
                }
                let picked = Set(resumed.map(\.id))
                let others = try session.store.jobs(phases: JobPhase.unfinished).filter { !picked.contains($0.id) }
                let runners = try session.store.runners()
                let now = Date()
                let alive = Set(runners.filter { !$0.isGone(now: now) }.map(\.id))
                let followed = others.filter { $0.ownerID.map(alive.contains) ?? false }
                let elsewhere = others.filter { !($0.ownerID.map(alive.contains) ?? false) }
                if !followed.isEmpty {
                    let pids = Set(followed.compactMap { job in runners.first { $0.id == job.ownerID }?.pid }).sorted().map(String.init)
                    Output.error("fluxdeck: \(followed.count) unfinished job(s) are followed by another running fluxdeck (pid \(pids.joined(separator: ", "))); left to it")
                }
                if !elsewhere.isEmpty {
                    Output.error("fluxdeck: \(elsewhere.count) unfinished job(s) belong to another endpoint (\(Set(elsewhere.map(\.endpoint)).sorted().joined(separator: ", "))); run resume with that endpoint")
                }
                if resumed.isEmpty { return [] }
                Output.error("fluxdeck: resuming \(resumed.count) job(s)")
                return try await JobRunner.followStoppably(session.engine, resumed, interrupts: interrupts)
            }
            if results.isEmpty, !json { Output.line("Nothing to resume.") }
            try JobRunner.report(results, json: json, regions: regions)
        }
    }
}

struct CreditsCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "credits", abstract: "Show the account's credit balance.")

    @OptionGroup var service: ServiceOptions
    @Flag(help: "Print JSON.") var json = false

    func run() async throws {
        try await runReportingFailures {
            let credits: Credits = try await Session.with(service.settings) { session in
                do { return try await session.client.credits() } catch let error as BFLError {
                    throw CommandFailure(code: error.exitCode, message: "\(error.message) \(error.hint)")
                }
            }
            if json {
                try Output.jsonLine(["credits": credits.value, "usd": credits.usd])
            } else {
                Output.line("\(credits) credits (\(credits.usdText))")
            }
        }
    }
}
