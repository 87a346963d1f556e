import ArgumentParser
import AsyncHTTPClient
import Catalog
import Foundation

/// `glimpse models fetch NAME`: downloads an Immich model repository into `models/NAME`,
/// every file checked against the hub's SHA-256 and resumable (see FileDownload).
struct ModelsFetch: AsyncParsableCommand {
  static let configuration = CommandConfiguration(
    commandName: "fetch",
    abstract: "Download a model folder from huggingface.co/immich-app (or HF_ENDPOINT, or --hub).",
    discussion: """
      Files are checked against the SHA-256 the hub announces, and an interrupted download \
      resumes where it stopped. HF_TOKEN is sent as a bearer token to the hub (not to the \
      storage host large files are redirected to). `glimpse models list --known` lists the names.
      """)

  @Argument(help: "Repository name, e.g. ViT-B-32__openai or ViT-B-16-SigLIP2__webli.")
  var name: String

  @Option(help: "Folder that receives <destination>/<name>.")
  var destination = "models"

  @Option(
    help:
      "Hub address and organisation (default: $HF_ENDPOINT/immich-app, else https://huggingface.co/immich-app)."
  )
  var hub: String?

  func validate() throws {
    let allowed = CharacterSet.alphanumerics.union(CharacterSet(charactersIn: "._-"))
    guard !name.isEmpty, name.unicodeScalars.allSatisfy(allowed.contains), !name.hasPrefix(".") else {
      throw ValidationError("\(name) is not a repository name (letters, digits, '.', '_' and '-')")
    }
  }

  func run() async throws {
    let location = try HubLocation(hub: hub, environment: ProcessInfo.processInfo.environment)
    let folder = URL(fileURLWithPath: destination).appendingPathComponent(name)
    let start = ContinuousClock.now
    let progress = FetchProgress()
    do {
      let bytes = try await HTTPClient.withHTTPClient(configuration: HubClient.configuration) { http in
        try await fetch(into: folder, with: HubClient(http: http, location: location), progress: progress)
      }
      let elapsed = String(format: "%.1f", ProgressFormat.seconds(start.duration(to: .now)))
      progress.note("done: \(ProgressFormat.bytes(bytes)) in \(elapsed) s; use --model \(folder.path)")
    } catch FetchError.unreachable(let host, let reason) {
      throw CLIError(
        "cannot reach \(host): \(reason); offline machines can copy a model folder (Immich layout) into \(folder.path)"
      )
    }
  }

  /// Returns the bytes downloaded now.
  private func fetch(into folder: URL, with client: HubClient, progress: FetchProgress) async throws -> Int64
  {
    var downloaded: Int64 = 0
    for file in try await plan(client, progress) {
      let target = folder.appendingPathComponent(file.path)
      if try isPresent(file, at: target) {
        progress.note("\(file.path): present")
        continue
      }
      let download = FileDownload(hub: client, model: name, file: file, target: target, progress: progress)
      switch try await download.run() {
      case .missing:
        progress.note("\(file.path): not published (optional)")
      case .downloaded(let bytes, let verified):
        downloaded += bytes
        let check = verified ? "SHA-256 verified" : "size checked (no SHA-256 announced)"
        progress.end("\(ProgressFormat.bytes(bytes)), \(check)")
      }
    }
    return downloaded
  }

  private func plan(_ client: HubClient, _ progress: FetchProgress) async throws -> [RemoteFile] {
    let repository = client.location.repositoryAddress(name)
    if let files = try await client.listFiles(of: name), !files.isEmpty {
      progress.note("\(repository): \(files.count) files")
      return files
    }
    progress.note("\(repository): no file listing from the hub; fetching Immich's usual files")
    return ModelFiles.fallback(for: name)
  }

  /// A file already in place counts when it matches what the hub listed; without a listing
  /// there is nothing to compare it with, and it is kept.
  private func isPresent(_ file: RemoteFile, at target: URL) throws -> Bool {
    guard let attributes = try? FileManager.default.attributesOfItem(atPath: target.path) else {
      return false
    }
    if let size = file.size, (attributes[.size] as? NSNumber)?.int64Value != size { return false }
    guard let sha256 = file.sha256 else { return true }
    return try ContentHash.sha256Hex(fileAt: target) == sha256
  }
}
