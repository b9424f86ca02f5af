import Foundation

/// The memory a simulation allocates, computed with overflow checks before anything is allocated (`MemoryBudget`):
/// `--cells-per-condition 9223372036854775807` crashed with SIGSEGV, `--genes 100000000000` and
/// `--latent-resp 10000000` with SIGABRT, and `--targets 100000000 --doubles 2` ran away to 15 GB (every pair of
/// targets is listed to draw the doubles from).
extension SimParams {
    /// A lower bound of the bytes `simulateScreen` allocates: the generating model, per-condition mechanisms and
    /// truth, the list of target pairs, per-cell bookkeeping and text, and the blocks of cells in flight.
    public func memoryNeeded() -> CheckedSize {
        let K = CheckedSize(targets), G = CheckedSize(genes), H = CheckedSize(hidden)
        let dN = CheckedSize(latentResp), dI = CheckedSize(latentInv), dZ = dN + dI
        let C = 1 + K + CheckedSize(doubles)
        let N = totalCells.map { CheckedSize($0) } ?? C * CheckedSize(cellsPerCondition)
        let pairs = K * (targets >= 1 ? K - 1 : 0) / 2
        let model = 4 * (dN * dN + dN * dI + 2 * K * dN + dZ * H + H * G + 4 * G + H + dN)
        let perCondition = 4 * (dN * dN + dN * dI + 2 * dN) + 96 + 4 * (2 * G + K + dZ) + 16 * G
        let blocks = 2048 * (4 * (dZ + H + 2 * G) + 12 * G)
        return 2 * model + C * perCondition + 24 * pairs + 160 * N + blocks
    }

    /// Refuses (exit 64) parameters whose simulation would not fit in memory, naming the option to blame.
    public func requireMemory() throws {
        let d = SimParams()
        try MemoryBudget.require([("--cells-per-condition", cellsPerCondition, d.cellsPerCondition), ("--cells", totalCells ?? 0, 0),
                                  ("--genes", genes, d.genes), ("--targets", targets, d.targets), ("--doubles", doubles, d.doubles),
                                  ("--latent-inv", latentInv, d.latentInv), ("--latent-resp", latentResp, d.latentResp)]) { v in
            var q = self
            q.cellsPerCondition = v[0]; q.totalCells = v[1] > 0 ? v[1] : nil
            q.genes = v[2]; q.targets = v[3]; q.doubles = v[4]; q.latentInv = v[5]; q.latentResp = v[6]
            return q.memoryNeeded()
        }
    }
}
