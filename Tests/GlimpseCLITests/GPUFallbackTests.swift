import Foundation
import Testing

/// `glimpse serve` asked for every GPU path on a machine that has none of them: one log
/// line each (which library or device is missing, what runs instead), then requests served on
/// the fallbacks, with the ONNX preprocessing graph (`--preprocess graph`) on the CPU provider.
@Suite(.serialized) struct GPUFallbackTests {
  static let images = CLIRunner.packageRoot.appendingPathComponent("Tests/ImagingTests/Fixtures/generated")

  /// The float32 values of a version-1 `.npy` file (the fixtures' reference embeddings).
  static func npyFloats(_ url: URL) throws -> [Float] {
    let data = try Data(contentsOf: url)
    let headerLength = Int(data[8]) | Int(data[9]) << 8
    let body = data.dropFirst(10 + headerLength)
    return body.withUnsafeBytes { Array($0.bindMemory(to: Float.self)) }
  }

  @Test func everyMissingGPUPathIsLoggedAndRequestsStillSucceed() async throws {
    let server = try ServeCommandTests.Server(arguments: [
      "--log-level", "info", "--device", "cpu", "--provider", "tensorrt", "--cuda-graphs", "--decode",
      "nvjpeg",
      "--preprocess", "graph",
    ])
    try await server.waitUntilReady()
    let jpeg = try Data(contentsOf: Self.images.appendingPathComponent("jpeg_baseline_640x480.jpg"))
    let (body, status) = try await server.post("/v1/embed", json: ["images": [jpeg.base64EncodedString()]])
    let result = server.terminate()
    #expect(status == 200, "\(String(decoding: body, as: UTF8.self).prefix(300))")
    let json = try JSONSerialization.jsonObject(with: body) as? [String: Any]
    let embedding = try #require((json?["embeddings"] as? [[Double]])?.first).map(Float.init)
    let expected = try Self.npyFloats(
      Self.images.appendingPathComponent("jpeg_baseline_640x480.embedding.npy"))
    let cosine = zip(embedding, expected).map(*).reduce(0, +)
    #expect(cosine >= 0.9999, "the graph-preprocessed embedding against open_clip's: \(cosine)")
    let log = result.stderr
    for line in [
      "TensorRT not used: it needs a CUDA device and the device is cpu (requested); models run on the CPU provider",
      "CUDA graphs not used: they need the CUDA provider and the device is cpu (requested); batches run unpadded",
      "nvJPEG not used: libnvjpeg.so.13 or libnvjpeg.so cannot be loaded",
      "Preprocessing with the ONNX graph on cpu",
    ] {
      #expect(log.contains(line), "missing log line: \(line)\n\(log.suffix(1500))")
    }
    #expect(log.components(separatedBy: "nvJPEG not used").count == 2, "one line per path, not per model")
  }

  /// `glimpse gpu-check` on the CPU: the graph against the exact path per image, and why
  /// nvJPEG was not compared.
  @Test func gpuCheckComparesTheGraphWithTheExactPath() throws {
    let folder = CLIRunner.packageRoot.appendingPathComponent("Tests/CLIPTests/Fixtures/preprocess/images")
    let result = try CLIRunner.run(["gpu-check", folder.path, "--device", "cpu"])
    #expect(result.status == 0, "\(result.stderr.suffix(800))")
    let report = try #require(
      try JSONSerialization.jsonObject(with: Data(result.stdout.utf8)) as? [String: Any])
    #expect(report["device"] as? String == "cpu")
    #expect((report["nvjpeg"] as? String)?.contains("libnvjpeg.so.13") == true)
    #expect(report["graph_providers"] as? [String] == ["CPUExecutionProvider"])
    let images = try #require(report["images"] as? [[String: Any]])
    #expect(images.count == 3)
    for image in images {
      let levels = try #require(image["graph_levels"] as? Double)
      let cosine = try #require(image["cosine"] as? Double)
      #expect(levels <= 1.01 && cosine >= 0.9999, "\(image)")
    }
  }
}
