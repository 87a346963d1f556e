import Foundation
import Testing

/// `glimpse models fetch` and `glimpse models list`, run as a user would against a stand-in for
/// the hub on loopback (HubStandIn) that serves the tiny CLIP test model's real files.
@Suite(.serialized) struct ModelsFetchTests {
  static let model = "ViT-B-32__random"
  /// Immich's ARM NN export, published beside the ONNX files: Glimpse must not fetch it.
  static let armnn = "visual/fp16/model.armnn"
  /// A listed path that climbs out of the model folder: never requested, never written.
  static let escaping = "textual/../../escaped.json"

  static func standIn() throws -> HubStandIn {
    var files = try HubStandIn.folderFiles(URL(fileURLWithPath: CLIRunner.tinyModel), skipping: ["golden"])
    files[armnn] = Data(repeating: 7, count: 150_000)
    files["README.md"] = Data("# a model card\n".utf8)
    files[escaping] = Data("{}".utf8)
    return HubStandIn(model: model, files: files)
  }

  /// Environment without the developer's own hub settings.
  static let clean: [String: String?] = ["HF_TOKEN": nil, "HF_ENDPOINT": nil]

  static func fetch(_ arguments: [String], into folder: URL, environment: [String: String?] = clean)
    async throws -> CLIRunner.Result
  {
    try await CLIRunner.runDetached(
      ["models", "fetch"] + arguments + ["--destination", folder.path],
      environment: clean.merging(environment) { $1 })
  }

  /// Every file of `paths` is byte-identical to the one the hub served.
  static func expectIdentical(_ paths: [String], in folder: URL, to hub: HubStandIn) {
    for path in paths {
      let fetched = FileManager.default.contents(atPath: folder.appendingPathComponent(path).path)
      #expect(fetched == hub.files[path], "\(path) differs from the hub's")
    }
  }

  @Test func fetchesThroughHFEndpointWithTokenAndVerifiesEveryFile() async throws {
    let hub = try Self.standIn()
    hub.requiredToken = "hf_test_token"
    let folder = try CLIRunner.temporaryFolder()
    let result = try await hub.serve { address in
      try await Self.fetch(
        [Self.model], into: folder, environment: ["HF_ENDPOINT": address, "HF_TOKEN": "hf_test_token"])
    }
    #expect(result.status == 0, "\(result.stderr)")
    let modelFolder = folder.appendingPathComponent(Self.model)
    let wanted = hub.files.keys.filter { ![Self.armnn, Self.escaping, "README.md"].contains($0) }
    Self.expectIdentical(Array(wanted), in: modelFolder, to: hub)
    #expect(!FileManager.default.fileExists(atPath: modelFolder.appendingPathComponent(Self.armnn).path))
    #expect(!FileManager.default.fileExists(atPath: folder.appendingPathComponent("escaped.json").path))
    #expect(!FileManager.default.fileExists(atPath: modelFolder.appendingPathComponent("README.md").path))
    #expect(result.stdout.contains("visual/model.onnx: 509.1 kB, SHA-256 verified"), "\(result.stdout)")
    let hubRequests = hub.requests.filter { $0.server == "hub" }
    let storageRequests = hub.requests.filter { $0.server == "storage" }
    #expect(hubRequests.allSatisfy { $0.authorization == "Bearer hf_test_token" })
    #expect(
      hubRequests.allSatisfy {
        $0.path.hasPrefix("/api/models/immich-app/") || $0.path.hasPrefix("/immich-app/")
      })
    #expect(!storageRequests.isEmpty)
    #expect(storageRequests.allSatisfy { $0.authorization == nil }, "the token followed the redirect")
  }

  @Test func secondFetchFindsEveryFilePresent() async throws {
    let hub = try Self.standIn()
    let folder = try CLIRunner.temporaryFolder()
    let (first, second) = try await hub.serve { address in
      let hubAddress = "\(address)/immich-app"
      return (
        try await Self.fetch([Self.model, "--hub", hubAddress], into: folder),
        try await Self.fetch([Self.model, "--hub", hubAddress], into: folder)
      )
    }
    #expect(first.status == 0 && second.status == 0, "\(first.stderr) \(second.stderr)")
    #expect(second.stdout.contains("visual/model.onnx: present"))
    #expect(second.stdout.contains("done: 0 B"), "\(second.stdout)")
  }

  @Test func interruptedTransferResumesWithARangeRequest() async throws {
    let hub = try Self.standIn()
    hub.treeAPI = false  // the fixed list, and the SHA-256 from X-Linked-Etag
    hub.interruptAfter = ["textual/model.onnx": 300_000]
    let folder = try CLIRunner.temporaryFolder()
    let result = try await hub.serve { address in
      try await Self.fetch([Self.model, "--hub", "\(address)/immich-app"], into: folder)
    }
    #expect(result.status == 0, "\(result.stderr)")
    #expect(result.stdout.contains("resuming with a Range request"), "\(result.stdout)")
    let blob = "/blobs/\(hub.digests["textual/model.onnx"]!)"
    let ranges = hub.requests.filter { $0.server == "storage" && $0.path == blob }.compactMap(\.range)
    let resumedAt = ranges.first.flatMap { Int($0.dropFirst("bytes=".count).dropLast()) } ?? 0
    #expect(ranges.count == 1 && resumedAt > 0 && resumedAt <= 300_000, "ranges sent: \(ranges)")
    let modelFolder = folder.appendingPathComponent(Self.model)
    Self.expectIdentical(
      [
        "config.json", "visual/model.onnx", "textual/model.onnx", "textual/tokenizer.json",
        "visual/preprocess_cfg.json", "visual/model.fp16.onnx", "textual/model.fp16.onnx",
      ],
      in: modelFolder, to: hub)
    #expect(
      !FileManager.default.fileExists(
        atPath: modelFolder.appendingPathComponent("textual/model.onnx.partial").path))
  }

  @Test(arguments: [true, false]) func corruptedFileIsRefusedAndNothingLeftInPlace(treeAPI: Bool) async throws
  {
    let hub = try Self.standIn()
    hub.treeAPI = treeAPI
    hub.corrupted = ["visual/model.onnx"]
    let folder = try CLIRunner.temporaryFolder()
    let result = try await hub.serve { address in
      try await Self.fetch([Self.model, "--hub", "\(address)/immich-app"], into: folder)
    }
    #expect(result.status != 0)
    let expected = hub.digests["visual/model.onnx"]!
    #expect(
      result.stderr.contains("visual/model.onnx: SHA-256 mismatch: expected \(expected), got "),
      "\(result.stderr)")
    let target = folder.appendingPathComponent(Self.model).appendingPathComponent("visual/model.onnx")
    #expect(!FileManager.default.fileExists(atPath: target.path))
    #expect(!FileManager.default.fileExists(atPath: target.path + ".partial"))
  }

  @Test func offlineHubIsAClearError() async throws {
    let folder = try CLIRunner.temporaryFolder()
    let port = try Self.closedPort()
    let result = try await Self.fetch(
      [Self.model, "--hub", "http://127.0.0.1:\(port)/immich-app"], into: folder)
    #expect(result.status != 0)
    #expect(result.stderr.contains("cannot reach 127.0.0.1: connection refused"), "\(result.stderr)")
    #expect(result.stderr.contains("offline machines can copy a model folder"))
  }

  @Test func unknownModelAndMissingTokenAreClearErrors() async throws {
    let hub = try Self.standIn()
    let folder = try CLIRunner.temporaryFolder()
    let unknown = try await hub.serve { address in
      try await Self.fetch(["ViT-Z-99__nowhere", "--hub", "\(address)/immich-app"], into: folder)
    }
    #expect(unknown.status != 0)
    #expect(unknown.stderr.contains("HTTP 404: no model ViT-Z-99__nowhere"), "\(unknown.stderr)")
    #expect(unknown.stderr.contains("glimpse models list --known"))
    hub.requiredToken = "hf_needed"
    let refused = try await hub.serve { address in
      try await Self.fetch([Self.model, "--hub", "\(address)/immich-app"], into: folder)
    }
    #expect(refused.status != 0)
    #expect(
      refused.stderr.contains("HTTP 401") && refused.stderr.contains("set HF_TOKEN"), "\(refused.stderr)")
  }

  @Test func listShowsInstalledFoldersAndKnownNames() async throws {
    let installed = try CLIRunner.run(["models", "list", "--json", "--destination", "models"])
    #expect(installed.status == 0, "\(installed.stderr)")
    let models = try JSONSerialization.jsonObject(with: Data(installed.stdout.utf8)) as? [[String: Any]] ?? []
    let tiny = models.first { $0["name"] as? String == "test/clip-tiny" }
    #expect(tiny?["family"] as? String == "CLIP")
    #expect(tiny?["embeddingSize"] as? Int == 16)
    #expect(tiny?["languages"] as? String == "en")
    #expect((tiny?["bytes"] as? Int ?? 0) > 1_000_000)
    #expect(
      models.contains { $0["name"] as? String == "test/yolo-tiny" && $0["kind"] as? String == "detector" })
    let known = try CLIRunner.run(["models", "list", "--known"])
    for name in [
      "ViT-B-32__openai", "ViT-L-14-336__openai", "ViT-B-16-SigLIP2__webli", "nllb-clip-base-siglip__v1",
    ] {
      #expect(known.stdout.contains(name))
    }
  }

  /// The family comes from each config's own fields, the languages from the known table for a
  /// known name (configs shaped like open_clip's for each family).
  @Test func listTellsTheFamilyFromConfigJSON() throws {
    let root = try CLIRunner.temporaryFolder()
    let configs: [(String, [String: Any], String, String)] = [
      (
        "ViT-B-16-SigLIP2__webli",
        [
          "embed_dim": 768, "init_logit_bias": -10,
          "text_cfg": ["hf_tokenizer_name": "timm/ViT-B-16-SigLIP2"],
        ],
        "SigLIP2", "multilingual"
      ),
      (
        "my-siglip", ["embed_dim": 1152, "vision_cfg": ["timm_model_name": "vit_so400m_patch14_siglip_384"]],
        "SigLIP", "en"
      ),
      (
        "nllb-clip-base-siglip__v1",
        ["embed_dim": 768, "text_cfg": ["hf_model_name": "facebook/nllb-200-distilled-600M"]], "multilingual",
        "multilingual (200 languages, NLLB)"
      ),
      (
        "my-xlmr", ["embed_dim": 640, "text_cfg": ["hf_model_name": "xlm-roberta-large"]], "multilingual",
        "multilingual"
      ),
      ("ViT-L-14-336__openai", ["embed_dim": 768, "vision_cfg": ["image_size": 336]], "CLIP", "en"),
    ]
    for (name, config, _, _) in configs {
      let folder = root.appendingPathComponent(name)
      try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
      try JSONSerialization.data(withJSONObject: config).write(
        to: folder.appendingPathComponent("config.json"))
    }
    let result = try CLIRunner.run(["models", "list", "--json", "--destination", root.path])
    let listed = try JSONSerialization.jsonObject(with: Data(result.stdout.utf8)) as? [[String: Any]] ?? []
    for (name, config, family, languages) in configs {
      let entry = listed.first { $0["name"] as? String == name }
      #expect(entry?["family"] as? String == family, "\(name)")
      #expect(entry?["languages"] as? String == languages, "\(name)")
      #expect(entry?["embeddingSize"] as? Int == config["embed_dim"] as? Int, "\(name)")
    }
  }

  /// A loopback port nothing listens on: bound, read back, and closed.
  static func closedPort() throws -> Int {
    let socket = Foundation.socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
    defer { close(socket) }
    var address = sockaddr_in()
    address.sin_family = sa_family_t(AF_INET)
    address.sin_addr.s_addr = inet_addr("127.0.0.1")
    var length = socklen_t(MemoryLayout<sockaddr_in>.size)
    try withUnsafeMutablePointer(to: &address) { pointer in
      try pointer.withMemoryRebound(to: sockaddr.self, capacity: 1) { raw in
        guard bind(socket, raw, length) == 0, getsockname(socket, raw, &length) == 0 else {
          throw CocoaError(.fileReadUnknown)
        }
      }
    }
    return Int(UInt16(bigEndian: address.sin_port))
  }
}
