import ArgumentParser
import Catalog
import Foundation
import GlimpseClient
import Services

/// `--server URL` (and `--api-key`): `embed`, `search` and `detect` ask a Glimpse server
/// through GlimpseClient instead of loading models and the catalog here.
struct RemoteServerOptions: ParsableArguments {
  @Option(
    name: .customLong("server"),
    help: ArgumentHelp(
      "Ask the Glimpse server at this URL instead of loading models here (env GLIMPSE_SERVER).",
      valueName: "URL"))
  var url: String?

  @Option(name: .customLong("api-key"), help: "The API key for --server (env GLIMPSE_API_KEY).")
  var apiKey: String?

  @Option(name: .customLong("timeout-s"), help: "With --server: seconds to wait for an answer.")
  var timeoutSeconds: Double = 60

  var serverURL: String? { url ?? ProcessInfo.processInfo.environment["GLIMPSE_SERVER"] }

  /// The client, when a server is named.
  func client() throws -> GlimpseClient? {
    guard let serverURL else { return nil }
    guard let url = URL(string: serverURL), ["http", "https"].contains(url.scheme ?? ""), url.host != nil
    else {
      throw ValidationError("--server must be an http:// or https:// URL, got '\(serverURL)'")
    }
    guard timeoutSeconds > 0 else { throw ValidationError("--timeout-s must be positive") }
    return GlimpseClient(
      serverURL: url, apiKey: apiKey ?? ProcessInfo.processInfo.environment["GLIMPSE_API_KEY"],
      timeout: .milliseconds(Int(timeoutSeconds * 1000)))
  }

  /// Refuses local-only options alongside --server, by name.
  func refuse(_ options: [(name: String, given: Bool)]) throws {
    guard serverURL != nil, let option = options.first(where: \.given) else { return }
    throw ValidationError("\(option.name) works on local models only, not with --server")
  }
}

/// The same JSON read as another type: the generated client's types and the CLI's own
/// describe the same wire format (the server encodes the CLI's types).
func transcoded<T: Decodable>(_ value: some Encodable, as type: T.Type) throws -> T {
  let encoder = JSONEncoder()
  encoder.dateEncodingStrategy = .iso8601
  return try JSONDecoder().decode(type, from: encoder.encode(value))
}

/// A server's error as the CLI reports it.
func remote<T>(_ what: String, _ call: () async throws -> T) async throws -> T {
  do {
    return try await call()
  } catch let error as GlimpseClientError {
    throw CLIError(error.status == 0 ? "\(what): \(error)" : "\(what): the server answered \(error)")
  }
}

func readFile(_ path: String) throws -> Data {
  guard let data = FileManager.default.contents(atPath: path) else { throw CLIError("cannot read \(path)") }
  return data
}

extension Embed {
  func runRemote(_ client: GlimpseClient) async throws -> [EmbeddingRecord] {
    let model =
      try await remote("models") { try await client.models().first } ?? ""
    var records: [EmbeddingRecord] = []
    for path in images {
      let embedding = try await remote(path) { try await client.embed(image: try readFile(path)) }
      records.append(EmbeddingRecord(input: path, kind: "image", model: model, embedding: embedding))
    }
    if !texts.isEmpty {
      let embeddings = try await remote("texts") { try await client.embed(texts: texts) }
      records += zip(texts, embeddings).map {
        EmbeddingRecord(input: $0, kind: "text", model: model, embedding: $1)
      }
    }
    return records
  }
}

extension Search {
  func runRemote(_ client: GlimpseClient, filter: SearchFilter) async throws -> [SearchResult] {
    let remoteFilter = filter.isEmpty ? nil : try transcoded(filter, as: GlimpseFilter.self)
    let results =
      if let text {
        try await remote("search") {
          try await client.search(text: text, k: k, filter: remoteFilter, groupByParent: groupByParent)
        }
      } else {
        try await remote("search") {
          try await client.search(
            image: try readFile(image!), k: k, filter: remoteFilter, groupByParent: groupByParent)
        }
      }
    return try transcoded(results, as: [SearchResult].self)
  }
}

extension Detect {
  func runRemote(_ client: GlimpseClient) async throws -> [DetectionReport] {
    var reports: [DetectionReport] = []
    for path in images {
      do {
        let answer = try await client.detect(
          image: try readFile(path), confidence: confidence.map(Double.init), iou: iou,
          classes: classes?.split(separator: ",").map(String.init), fovDegrees: fieldOfView,
          focalPixels: focalPixels, searchK: searchCount)
        reports.append(
          DetectionReport(
            image: path, width: answer.width, height: answer.height,
            detections: try transcoded(answer.detections, as: [DetectedObject].self)))
      } catch {
        printError("\(path): \(error)")
        reports.append(DetectionReport(image: path, error: "\(error)"))
      }
    }
    return reports
  }
}
