import ArgumentParser
import CLIP
import Catalog
import Foundation
import GlimpseServer
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

      --reembed moves a catalog to the model given (--model): every item is embedded again \
      from the file it was indexed from, then the catalog switches to the new model in one \
      transaction. Items that cannot be (no source file, file gone or changed) are listed and \
      nothing is changed, unless --drop-missing removes them. With a folder too, the folder \
      is indexed afterwards with the new model.
      """)

  @Argument(help: "The folder to index (optional with --reembed).")
  var folder: String?

  @Flag(help: "Embed the catalog's items again with --model's model and switch the catalog to it.")
  var reembed = false

  @Flag(help: "With --reembed: remove the items that cannot be embedded again instead of stopping.")
  var dropMissing = false

  @Option(help: "Comma-separated tags given to every indexed image.")
  var tags: String?

  @Option(help: "Metadata per file: a JSON object keyed by relative path, or a CSV with a 'path' column.")
  var metadataFrom: String?

  @Option(help: "Images embedded per model run.")
  var batchSize = 16

  @Flag(help: "One JSON line per file and a JSON summary.")
  var json = false

  @OptionGroup var thumbnails: ThumbnailOptions
  @OptionGroup var model: CLIPModelOptions
  @OptionGroup var storeOptions: StoreOptions

  func validate() throws {
    guard (1...1024).contains(batchSize) else { throw ValidationError("--batch-size must be 1…1024") }
    guard folder != nil || reembed else { throw ValidationError("give a folder to index, or --reembed") }
    guard reembed || !dropMissing else { throw ValidationError("--drop-missing goes with --reembed") }
  }

  func run() async throws {
    let logger = model.logger("glimpse.index")
    let (clip, _) = try model.load(logger: logger)
    if reembed { try await reembedCatalog(clip) }
    guard let folder else { return }
    let scan = try ImageFileScanner.scan(folder)
    let metadata = try metadataFrom.map(MetadataSidecar.load) ?? [:]
    let store = try await storeOptions.open(model: clip.bundle.name, dimension: clip.dimension)
    let progress = IndexProgress(total: scan.files.count, json: json)
    for folder in scan.unreadable { progress.record(.failed(path: folder.path, reason: folder.reason)) }
    let indexer = FolderIndexer(
      clip: clip, store: store, tags: parsedTags, metadata: metadata, batchSize: batchSize,
      thumbnails: thumbnails.enabled)
    try await indexer.run(scan.files) { progress.record($0) }
    await closeStore(store)
    progress.finish()
    if !progress.failures.isEmpty { throw ExitCode(2) }
  }

  /// Embeds the catalog again with `clip` and switches it to that model (or, with items left
  /// behind and no --drop-missing, lists them and changes nothing).
  private func reembedCatalog(_ clip: CLIPModel) async throws {
    let store = try await storeOptions.openExisting()
    let total = try await store.count()
    printError("re-embedding \(total) items of a \(store.model) catalog with \(clip.bundle.name)")
    let reembedder = CatalogReembedder(clip: clip, store: store, batchSize: batchSize) { done in
      printError("re-embedded \(done)/\(total)")
    }
    let outcome: CatalogReembedder.Outcome
    do {
      outcome = try await reembedder.embedAll()
    } catch {
      await closeStore(store)
      throw error
    }
    for item in outcome.leftBehind { print("left behind \(item.id): \(item.reason)") }
    guard outcome.leftBehind.isEmpty || dropMissing else {
      await closeStore(store)
      throw CLIError(
        "\(outcome.leftBehind.count) items cannot be embedded again (listed above); nothing was changed. "
          + "Restore their files, or run again with --drop-missing to remove them")
    }
    do {
      try await store.changeModel(outcome.change)
    } catch {
      await closeStore(store)
      throw CLIError("\(error)")
    }
    await closeStore(store)
    print(
      "the catalog now holds \(clip.bundle.name) embeddings: \(outcome.change.embeddings.count) items re-embedded, "
        + "\(outcome.leftBehind.count) removed")
  }

  private var parsedTags: [String] {
    ListParsing.commaSeparated(tags ?? "")
  }
}
