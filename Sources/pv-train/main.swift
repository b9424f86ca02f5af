import PVShared

runTool("pv-train") {
    _ = try Options(tool: "pv-train", synopsis: "pv-train [options]", description: "Not yet implemented.", specs: [])
    throw PVError.usage("not yet implemented")
}
