import PVShared

runTool("pv-normalize") {
    _ = try Options(tool: "pv-normalize", synopsis: "pv-normalize [options]", description: "Not yet implemented.", specs: [])
    throw PVError.usage("not yet implemented")
}
