import PVShared

runTool("pv-score") {
    _ = try Options(tool: "pv-score", synopsis: "pv-score [options]", description: "Not yet implemented.", specs: [])
    throw PVError.usage("not yet implemented")
}
