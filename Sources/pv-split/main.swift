import PVShared

runTool("pv-split") {
    _ = try Options(tool: "pv-split", synopsis: "pv-split [options]", description: "Not yet implemented.", specs: [])
    throw PVError.usage("not yet implemented")
}
