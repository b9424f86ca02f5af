import PVShared

runTool("pv-predict") {
    _ = try Options(tool: "pv-predict", synopsis: "pv-predict [options]", description: "Not yet implemented.", specs: [])
    throw PVError.usage("not yet implemented")
}
