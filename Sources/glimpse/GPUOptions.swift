import ArgumentParser
import Foundation
import Hardware
import Logging

/// The GPU paths of issue 19 (docs/gpu.md): each falls back, with one log line, where its
/// library or device is missing.
struct GPUOptions: ParsableArguments {
  @Flag(
    help:
      "Capture CUDA graphs of the model runs, batches padded to 1, 8, 32, 128 (env GLIMPSE_CUDA_GRAPHS=1; CUDA provider only)."
  )
  var cudaGraphs = false

  @Option(help: "JPEG decoding: auto (nvJPEG on a GPU), cpu or nvjpeg (env GLIMPSE_DECODE; default auto).")
  var decode: String?

  @Option(
    help:
      "Preprocessing: auto (the ONNX graph on a GPU, exact on the CPU), exact or graph (env GLIMPSE_PREPROCESS; default auto)."
  )
  var preprocess: String?

  @Flag(help: "Preprocess on the CPU with Pillow's arithmetic even on a GPU (same as --preprocess exact).")
  var exactPreprocess = false

  /// The request these flags make, with `tensorRT` from `--provider`.
  func request(tensorRT: Bool, environment: [String: String]) throws -> AcceleratorRequest {
    let decodeName = (decode ?? environment["GLIMPSE_DECODE"] ?? "auto").lowercased()
    guard let decode = DecodeMode(rawValue: decodeName) else {
      throw ValidationError("--decode must be auto, cpu or nvjpeg, not '\(decodeName)'")
    }
    let preprocessName =
      exactPreprocess ? "exact" : (preprocess ?? environment["GLIMPSE_PREPROCESS"] ?? "auto").lowercased()
    guard let preprocess = PreprocessMode(rawValue: preprocessName) else {
      throw ValidationError("--preprocess must be auto, exact or graph, not '\(preprocessName)'")
    }
    return AcceleratorRequest(
      tensorRT: tensorRT, cudaGraphs: cudaGraphs || environment["GLIMPSE_CUDA_GRAPHS"] == "1", decode: decode,
      preprocess: preprocess)
  }
}
