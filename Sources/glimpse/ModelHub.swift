import Foundation

/// Where `glimpse models fetch` downloads from: a Hugging Face hub or a mirror of one, the
/// organisation that publishes the model repositories, and the token to send.
struct HubLocation: Sendable {
  static let defaultEndpoint = "https://huggingface.co"
  static let defaultOrganization = "immich-app"

  /// Scheme, host, port and any path prefix, without a trailing slash.
  var endpoint: String
  var organization: String
  var token: String?

  /// `--hub ENDPOINT/ORGANIZATION` wins; otherwise `HF_ENDPOINT` (the variable huggingface_hub
  /// reads for mirrors) with Immich's organisation. `HF_TOKEN` is sent as a bearer token.
  init(hub: String?, environment: [String: String]) throws {
    token = environment["HF_TOKEN"].flatMap { $0.isEmpty ? nil : $0 }
    guard let hub else {
      endpoint = Self.trimmed(environment["HF_ENDPOINT"] ?? Self.defaultEndpoint)
      organization = Self.defaultOrganization
      return
    }
    let address = Self.trimmed(hub)
    guard let url = URL(string: address), url.scheme != nil, url.host != nil,
      let slash = address.lastIndex(of: "/"), url.path.count > 1
    else {
      throw CLIError(
        "--hub \(hub): expected the hub's address and organisation, e.g. https://huggingface.co/immich-app")
    }
    endpoint = String(address[..<slash])
    organization = String(address[address.index(after: slash)...])
  }

  private static func trimmed(_ address: String) -> String {
    var address = address
    while address.hasSuffix("/") { address.removeLast() }
    return address
  }

  /// What a user would open in a browser: `https://huggingface.co/immich-app/NAME`.
  func repositoryAddress(_ name: String) -> String { "\(endpoint)/\(organization)/\(name)" }

  /// The hub's file listing, with each LFS file's SHA-256 (`lfs.oid`) and size.
  func treeAddress(_ name: String) -> String {
    "\(endpoint)/api/models/\(organization)/\(name)/tree/main?recursive=true"
  }

  func fileAddress(_ name: String, _ path: String) -> String {
    "\(repositoryAddress(name))/resolve/main/\(path)"
  }

  /// The token goes to the hub only: large files are redirected to a storage host, and a
  /// bearer token must not follow them there.
  func isHub(_ address: URL) -> Bool {
    guard let hub = URL(string: endpoint) else { return false }
    return hub.scheme?.lowercased() == address.scheme?.lowercased()
      && hub.host?.lowercased() == address.host?.lowercased() && hub.port == address.port
  }
}

/// One file of a model repository to download.
struct RemoteFile: Sendable, Equatable {
  var path: String
  /// From the tree listing; otherwise the `X-Linked-Size` the hub sends with a redirect.
  var size: Int64?
  /// SHA-256 in lowercase hex: the tree's `lfs.oid`, or the redirect's `X-Linked-Etag`.
  var sha256: String?
  /// A missing optional file (HTTP 404) is skipped; a missing required one stops the fetch.
  var required: Bool
}

/// Which files of an Immich model repository Glimpse downloads.
enum ModelFiles {
  /// Without these a folder cannot be loaded.
  static let required = ["config.json", "visual/model.onnx", "textual/model.onnx", "textual/tokenizer.json"]

  /// Used when present. Immich publishes FP16 weights only as ARM NN files, which ONNX Runtime
  /// cannot load; `model.fp16.onnx` is what `scripts/export-clip --fp16` puts in a mirror.
  static let optional = [
    "visual/preprocess_cfg.json", "textual/tokenizer_config.json", "textual/special_tokens_map.json",
    "visual/model.fp16.onnx", "textual/model.fp16.onnx",
  ]

  /// BPE vocabularies beside tokenizer.json in OpenAI-style CLIP repositories.
  static let bytePairFiles = ["textual/vocab.json", "textual/merges.txt"]

  /// The fixed list, for hubs without the tree API.
  static func fallback(for name: String) -> [RemoteFile] {
    let family = KnownModel.named(name)?.family
    let extra = family == nil || family == .clip ? bytePairFiles : []
    return required.map { RemoteFile(path: $0, required: true) }
      + (optional + extra).map { RemoteFile(path: $0, required: false) }
  }

  /// From a tree listing: `config.json` and everything under `visual/` and `textual/` (ONNX
  /// external-data files and tokenizer files included) except the ARM NN and RKNN exports
  /// Immich publishes for its ARM boards.
  static func wanted(_ path: String) -> Bool {
    guard path == "config.json" || path.hasPrefix("visual/") || path.hasPrefix("textual/") else {
      return false
    }
    // A listing is the hub's word: a path that climbs out of the model folder is never written.
    let parts = path.split(separator: "/", omittingEmptySubsequences: false)
    guard !parts.contains(where: { $0.isEmpty || $0 == "." || $0 == ".." }) else { return false }
    let skipped = [".armnn", ".rknn"]
    return !skipped.contains { path.hasSuffix($0) } && !path.contains("/rknpu/")
  }
}

/// One entry of `GET /api/models/{repo}/tree/main?recursive=true`.
struct HubTreeEntry: Decodable {
  struct LFS: Decodable {
    var oid: String
    var size: Int64
  }
  var type: String
  var path: String
  var size: Int64?
  var lfs: LFS?

  /// Small files are stored in git: their `oid` is a git blob SHA-1, not a SHA-256, so only
  /// LFS files carry a digest to check.
  var remoteFile: RemoteFile {
    RemoteFile(path: path, size: lfs?.size ?? size, sha256: lfs.map { $0.oid.lowercased() }, required: true)
  }

  static func files(from data: Data) throws -> [RemoteFile] {
    try JSONDecoder().decode([HubTreeEntry].self, from: data)
      .filter { $0.type == "file" && ModelFiles.wanted($0.path) }
      .map(\.remoteFile)
      .sorted { $0.path < $1.path }
  }
}
