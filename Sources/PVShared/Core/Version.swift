/// The version every tool reports with `--version` and writes into provenance headers and model files.
public let pvVersion = "0.1.0"
