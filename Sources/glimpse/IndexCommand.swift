import ArgumentParser
import Catalog
import Foundation
import Logging

/// `glimpse index DIR`: embeds every image under a folder into the catalog, resumably.
struct Index: AsyncParsableCommand {
  static let configuration = CommandConfiguration(
    abstract: "Index the images under a folder (recursive) into the catalog.",
    discussion: """
      Each image becomes an item whose id is its path relative to DIR. Files already stored with \
      the same content (SHA-256) are skipped, so an interrupted run picks up where it stopped. \
      Exit status: 0 when every file was indexed or skipped, 2 when some files failed (listed \
      in the summary), 1 on errors that stop the run.
      """)

  @Argument(help: "The folder to index.")
  var folder: String

  @Option(help: "Comma-separated tags given to every indexed image.")
  var tags: String?

  @Option(help: "Metadata per file: a JSON object keyed by relative path, or a CSV with a 'path' column.")
  var metadataFrom: String?

  @Option(help: "Images embedded per model run.")
  var batchSize = 16

  @Flag(help: "One JSON line per file and a JSON summary.")
  var json = false

  @OptionGroup var model: CLIPModelOptions
  @OptionGroup var storeOptions: StoreOptions

  func validate() throws {
    guard (1...1024).contains(batchSize) else { throw ValidationError("--batch-size must be 1…1024") }
  }

  func run() async throws {
    let logger = model.logger("glimpse.index")
    let scan = try ImageFileScanner.scan(folder)
    let metadata = try metadataFrom.map(MetadataSidecar.load) ?? [:]
    let (clip, _) = try model.load(logger: logger)
    let store = try await storeOptions.open(model: clip.bundle.name, dimension: clip.dimension)
    let progress = IndexProgress(total: scan.files.count, json: json)
    for folder in scan.unreadable { progress.record(.failed(path: folder.path, reason: folder.reason)) }
    let indexer = FolderIndexer(
      clip: clip, store: store, tags: parsedTags, metadata: metadata, batchSize: batchSize)
    try await indexer.run(scan.files) { progress.record($0) }
    await closeStore(store)
    progress.finish()
    if !progress.failures.isEmpty { throw ExitCode(2) }
  }

  private var parsedTags: [String] {
    (tags ?? "").split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces) }.filter { !$0.isEmpty }
  }
}
