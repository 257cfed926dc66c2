public import BFL

extension BodyPace {
    /// The pace for in-process tests that are not about pace: a busy test process stalls its
    /// own loopback servers for seconds (decision 62), which must not read as a slow server.
    /// The request's deadline still bounds every body.
    public static let patientForTests = BodyPace(grace: .seconds(300), minimumBytesPerSecond: 1)
}
