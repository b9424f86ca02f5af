import Foundation

extension SplitScheme: OptionChoice {}

/// pv-split's options, declared once: help, parsing, bounds, the "does not use" warnings and `SplitConfig`'s
/// defaults come from here.
public enum SplitOptions {
    static let s2d = [SplitScheme.singlesToDoubles.rawValue], gears = [SplitScheme.gearsSimulation.rawValue]
    static let random = [SplitScheme.randomCells.rawValue]

    public static let out = Option<String?>("out", short: "o", "FILE", default: nil,
                                            help: "output split table (`-` for stdout); required")
    public static let scheme = Option<SplitScheme>("scheme", "NAME", default: .singlesToDoubles,
                                                   help: "singles-to-doubles, gears-simulation, random-cells or custom")
    public static let barcodeColumn = Option<String>("barcode-column", "NAME", default: "barcode", group: "Labels",
                                                     help: "barcode column of a table with a header")
    public static let labelColumn = Option<String>("label-column", "NAME", default: "label", group: "Labels",
                                                   help: "label column of a table with a header")
    public static let seed = Option.seed(help: "random seed (every random choice)")
    public static let holdoutSingles = Option<Int>("holdout-singles", "N", default: 14, .atLeast(0), group: "Schemes",
                                                   usedBy: s2d, help: "singles-to-doubles: largest singles that lose cells to test")
    public static let holdoutCells = Option<Int>("holdout-cells", "N", default: 96, .atLeast(0), group: "Schemes",
                                                 usedBy: s2d, help: "singles-to-doubles: test cells taken from each of them")
    public static let valCells = Option<Int?>("val-cells", "N", default: nil, .atLeast(0), group: "Schemes", usedBy: s2d,
                                              defaultWord: "auto",
                                              help: "singles-to-doubles: val cells per training single (auto: 5% of its remaining cells, at least 1 when 10 remain)")
    public static let valDoubles = Option<Double>("val-doubles", "F", default: 0, .within(0, 1), group: "Schemes",
                                                  usedBy: s2d,
                                                  help: "singles-to-doubles: seeded fraction of the combinations to set val (never trained on, never test)")
    public static let trainGeneFrac = Option<Double>("train-gene-frac", "F", default: 0.75, .within(0, 1), group: "Schemes",
                                                     usedBy: gears, help: "gears-simulation: fraction of genes seen in training")
    public static let comboSeen2TrainFrac = Option<Double>("combo-seen2-train-frac", "F", default: 0.75, .within(0, 1),
                                                           group: "Schemes", usedBy: gears,
                                                           help: "gears-simulation: fraction of all-seen combinations trained on")
    public static let valGeneFrac = Option<Double>("val-gene-frac", "F", default: 0.9, .within(0, 1), group: "Schemes",
                                                   usedBy: gears, help: "gears-simulation: the same, carving val from train")
    public static let valComboFrac = Option<Double>("val-combo-frac", "F", default: 0.9, .within(0, 1), group: "Schemes",
                                                    usedBy: gears, help: "gears-simulation: the same, carving val from train")
    public static let valFrac = Option<Double>("val-frac", "F", default: 0.1, .within(0, 1), group: "Schemes", usedBy: random,
                                               help: "random-cells: fraction of each condition's cells to val")
    public static let testFrac = Option<Double>("test-frac", "F", default: 0.1, .within(0, 1), group: "Schemes", usedBy: random,
                                                help: "random-cells: fraction of each condition's cells to test")
    public static let custom = Option<String?>("custom", "FILE", default: nil, group: "Schemes",
                                               help: "custom: condition<TAB>set table (implies --scheme custom)")
    public static let controlHoldout = Option<Double>("control-holdout", "F", default: 0, .within(0, 1),
                                                      help: "fraction of control cells moved to test")

    public static let all: [any OptionDeclaration] = [out, scheme, seed, controlHoldout] + LabelSyntax.options
        + [barcodeColumn, labelColumn, holdoutSingles, holdoutCells, valCells, valDoubles, trainGeneFrac, comboSeen2TrainFrac,
           valGeneFrac, valComboFrac, valFrac, testFrac, custom]
}

extension SplitConfig {
    /// The split a parsed pv-split command line asks for (the custom table is read later, against the cells);
    /// warns about the options of other schemes, and names every inconsistency at once.
    public init(_ o: Options) throws {
        self.init()
        scheme = o.given(SplitOptions.scheme) || !o.given(SplitOptions.custom) ? o[SplitOptions.scheme] : .custom
        var errors = UsageErrors()
        errors.check(scheme != .custom || o.given(SplitOptions.custom), "--scheme custom needs --custom FILE (condition<TAB>set)")
        errors.check(scheme == .custom || !o.given(SplitOptions.custom),
                     "--custom is only used with --scheme custom, not \(scheme.rawValue)")
        seed = UInt64(o[SplitOptions.seed])
        holdoutSingles = o[SplitOptions.holdoutSingles]
        holdoutCells = o[SplitOptions.holdoutCells]
        valCells = o[SplitOptions.valCells]
        valDoubles = o[SplitOptions.valDoubles]
        trainGeneFrac = o[SplitOptions.trainGeneFrac]
        comboSeen2TrainFrac = o[SplitOptions.comboSeen2TrainFrac]
        valGeneFrac = o[SplitOptions.valGeneFrac]
        valComboFrac = o[SplitOptions.valComboFrac]
        valFrac = o[SplitOptions.valFrac]
        testFrac = o[SplitOptions.testFrac]
        errors.check(valFrac + testFrac <= 1, "--val-frac + --test-frac must not exceed 1")
        controlHoldout = o[SplitOptions.controlHoldout]
        try errors.throwIfAny()
        // Options of another scheme are named, so that nobody believes they had an effect.
        o.warnUnused(by: SplitOptions.scheme, value: scheme, among: SplitOptions.all)
    }
}
