import Foundation
import Testing

/// `glimpse embed/search/detect --server URL` against a `glimpse serve` process: the same
/// answers as the local commands, the server's errors reported, local-only options refused.
@Suite(.serialized) struct RemoteCommandTests {
  static func json(_ line: String) throws -> [String: Any] {
    try #require(try JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any])
  }

  static func vector(_ record: [String: Any]) -> [Float] {
    (record["embedding"] as? [Double] ?? []).map(Float.init)
  }

  static func cosine(_ a: [Float], _ b: [Float]) -> Float {
    let dot = zip(a, b).reduce(0) { $0 + $1.0 * $1.1 }
    return dot / (a.reduce(0) { $0 + $1 * $1 } * b.reduce(0) { $0 + $1 * $1 }).squareRoot()
  }

  @Test func remoteCommandsMatchTheLocalOnes() async throws {
    let server = try ServeCommandTests.Server()
    defer { _ = server.terminate() }
    try await server.waitUntilReady()
    let image = CLIRunner.packageRoot.appendingPathComponent("samples/street_1280x720.png").path
    let imageData = try Data(contentsOf: URL(fileURLWithPath: image))
    _ = try await server.post("/v1/items", json: ["id": "street", "image": imageData.base64EncodedString()])

    let embed = ["embed", "--image", image, "--text", "a red car", "--json"]
    let remote = try await CLIRunner.runDetached(embed + ["--server", server.base])
    let local = try await CLIRunner.runDetached(embed)
    #expect(remote.status == 0 && local.status == 0, "\(remote.stderr) \(local.stderr)")
    #expect(remote.lines.count == 2 && local.lines.count == 2)
    for (got, want) in zip(remote.lines, local.lines) {
      #expect(Self.cosine(Self.vector(try Self.json(got)), Self.vector(try Self.json(want))) >= 0.99999)
    }

    let search = try await CLIRunner.runDetached([
      "search", "--server", server.base, "--image", image, "-k", "1",
    ])
    #expect(search.status == 0 && search.stdout.contains("street"), "\(search.stdout) \(search.stderr)")

    let detect = ["detect", image, "--conf", "0.05", "--json"]
    let remoteDetect = try await CLIRunner.runDetached(detect + ["--server", server.base])
    let localDetect = try await CLIRunner.runDetached(detect)
    let remoteObjects = try Self.detections(remoteDetect.stdout)
    let localObjects = try Self.detections(localDetect.stdout)
    #expect(!remoteObjects.isEmpty && remoteObjects == localObjects)
  }

  /// Labels and boxes (rounded to a pixel) of `glimpse detect --json`'s one image.
  static func detections(_ output: String) throws -> [String] {
    let reports = try #require(try JSONSerialization.jsonObject(with: Data(output.utf8)) as? [[String: Any]])
    let objects = reports.first?["detections"] as? [[String: Any]] ?? []
    return objects.map { object in
      let box = object["box"] as? [String: Double] ?? [:]
      let corners = ["x1", "y1", "x2", "y2"].map { String(Int((box[$0] ?? -1).rounded())) }
      return "\(object["label"] ?? "?") " + corners.joined(separator: ",")
    }
  }

  @Test func serverErrorsAndLocalOnlyOptions() async throws {
    let server = try ServeCommandTests.Server()
    defer { _ = server.terminate() }
    try await server.waitUntilReady()
    let folder = try CLIRunner.temporaryFolder()
    let notAnImage = folder.appendingPathComponent("notes.jpg")
    try Data("not an image".utf8).write(to: notAnImage)
    let failed = try await CLIRunner.runDetached([
      "search", "--server", server.base, "--image", notAnImage.path,
    ])
    #expect(failed.status != 0 && failed.stderr.contains("invalid_image"), "\(failed.stderr)")
    let refused = try await CLIRunner.runDetached(
      [
        "detect", "--server", server.base, "--annotate", folder.appendingPathComponent("out.jpg").path,
        notAnImage.path,
      ])
    #expect(
      refused.status == 64 && refused.stderr.contains("--annotate works on local models only"),
      "\(refused.stderr)"
    )
    let unreachable = try await CLIRunner.runDetached([
      "embed", "--server", "http://127.0.0.1:1", "--timeout-s", "2", "--text", "a",
    ])
    #expect(
      unreachable.status != 0 && unreachable.stderr.contains("no answer from http://127.0.0.1:1 within 2"),
      "\(unreachable.stderr)")
  }
}
