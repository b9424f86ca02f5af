import PVShared

runTool("pv-simulate") {
    _ = try Options(tool: "pv-simulate", synopsis: "pv-simulate [options]", description: "Not yet implemented.", specs: [])
    throw PVError.usage("not yet implemented")
}
