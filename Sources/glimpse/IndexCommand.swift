import ArgumentParser
import CLIP
import Catalog
import Detection
import Foundation
import GlimpseServer
import Logging
import Services

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

      --objects also runs the detector (--detector-model) on each newly embedded image and \
      stores each object it finds (at most --max-objects, best first) as an item of its own, \
      PATH#object-N, embedded from its crop, with its parent's id and its box: a search with \
      a picture of the object finds it. Deleting the image deletes its objects.
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

  @Flag(help: "Also store the objects the detector finds in each image as items of their own.")
  var objects = false

  @Option(help: "With --objects: the most objects stored per image (the most confident).")
  var maxObjects = 16

  @Option(help: "With --objects: the detector's confidence threshold.")
  var conf: Float = 0.25

  @OptionGroup var thumbnails: ThumbnailOptions
  @OptionGroup var detector: DetectorOptions
  @OptionGroup var model: CLIPModelOptions
  @OptionGroup var storeOptions: StoreOptions

  func validate() throws {
    guard (1...1024).contains(batchSize) else { throw ValidationError("--batch-size must be 1…1024") }
    guard folder != nil || reembed else { throw ValidationError("give a folder to index, or --reembed") }
    guard reembed || !dropMissing else { throw ValidationError("--drop-missing goes with --reembed") }
    guard (1...300).contains(maxObjects) else { throw ValidationError("--max-objects must be 1…300") }
    guard DetectionOptions.thresholdRange.contains(Double(conf)) else {
      throw ValidationError("--conf must be 0…1")
    }
    guard objects || detector.modelFolder == nil else {
      throw ValidationError("--detector-model goes with --objects")
    }
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
      visual: VisualSearchService(clip: clip, store: store), tags: parsedTags, metadata: metadata,
      batchSize: batchSize,
      thumbnails: thumbnails.enabled, objects: try objectIndexing(clip, store: store, logger: logger))
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

  /// The detector and crop embedder of --objects (nil without it).
  private func objectIndexing(_ clip: CLIPModel, store: any CatalogStore, logger: Logger) throws
    -> ObjectIndexing?
  {
    guard objects else { return nil }
    let detector = try detector.load(runtime: model.runtime, logger: logger)
    var options = DetectionOptions()
    options.maxDetections = maxObjects
    options.confidenceThreshold = conf
    return ObjectIndexing(
      service: ObjectDetectionService(detector: detector), options: options,
      crops: VisualSearchService(clip: clip, store: store).cropSearch())
  }

  private var parsedTags: [String] {
    ListParsing.commaSeparated(tags ?? "")
  }
}
