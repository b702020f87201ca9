/// A step that reshapes or narrows the candidates before a token is drawn.
///
/// Processors are value types configured once per request; `history` is the request's tokens so
/// far (prompt and generated), for the penalties.
public protocol LogitProcessor: Sendable {
    /// Applies the step.
    ///
    /// - Parameters:
    ///   - candidates: The candidates to change.
    ///   - history: The tokens so far.
    func process(_ candidates: inout Candidates, history: [Int32])
}
