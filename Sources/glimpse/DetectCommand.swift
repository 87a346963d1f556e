import ArgumentParser
import Catalog
import Detection
import Foundation
import Imaging
import Logging
import Services

/// `glimpse detect`: YOLO detections with distance estimates, optionally drawn onto a JPEG
/// (`--annotate`) and looked up in the catalog (`--search K`).
struct Detect: AsyncParsableCommand {
  static let configuration = CommandConfiguration(
    abstract: "Detect objects in images (YOLO), with distances; optionally draw them or search the catalog.",
    discussion: """
      The detector is --detector-model (env GLIMPSE_DETECTOR_MODEL; default models/yolov8n, else the \
      demo models/test/yolo-tiny). --model is the CLIP model used by --search. With several images, \
      --annotate OUT.jpg writes OUT-1.jpg, OUT-2.jpg, … in the order of the images. A folder stands \
      for its images sorted by name. --track follows objects across the images as the frames of a \
      video (ByteTrack as Ultralytics', default settings): each object gets a track id, its distance \
      is smoothed, and with --search each track is searched once and again only when its box \
      changes size by 1.5× or after 30 frames.
      """)

  @Argument(help: "Image files (JPEG, PNG, WebP) or folders of them.")
  var images: [String] = []

  @Option(
    name: .customLong("conf"),
    help: "Confidence threshold, 0…1 (default 0.25; 0.1 with --track, as Ultralytics tracks).")
  var confidence: Float?

  @Flag(help: "Track objects across the images, in order, as frames of one video.")
  var track = false

  @Option(help: "IoU threshold of non-maximum suppression, 0…1.")
  var iou: Double = 0.7

  @Flag(help: "Suppress overlapping boxes across classes, not only within a class.")
  var agnostic = false

  @Option(help: "Only these classes: names or ids, comma-separated (e.g. person,car or 0,2).")
  var classes: String?

  @Option(name: .customLong("max-det"), help: "Most detections per image.")
  var maxDetections = 300

  @Option(
    name: .customLong("fov-deg"),
    help: "Vertical field of view of the camera in degrees, for distances (default 60).")
  var fieldOfView: Double?

  @Option(name: .customLong("focal-px"), help: "Focal length in pixels of the image, instead of --fov-deg.")
  var focalPixels: Double?

  @Option(
    name: .customLong("search"),
    help: ArgumentHelp("Search the catalog with each detected object; K matches each.", valueName: "K"))
  var searchCount: Int?

  @Option(
    name: .customLong("search-classes"),
    help: ArgumentHelp("With --search: only objects of these classes (names or ids).", valueName: "classes"))
  var searchClasses: String?

  @Option(
    help: ArgumentHelp(
      "Write the image with boxes, labels and distances drawn to this JPEG file.", valueName: "OUT.jpg"))
  var annotate: String?

  @Flag(help: "Print JSON.")
  var json = false

  @OptionGroup var detectorOptions: DetectorOptions
  @OptionGroup var clipModel: CLIPModelOptions
  @OptionGroup var storeOptions: StoreOptions
  @OptionGroup var server: RemoteServerOptions

  func validate() throws {
    guard !images.isEmpty else { throw ValidationError("give at least one image file") }
    guard DetectionOptions.thresholdRange.contains(Double(confidence ?? 0)) else {
      throw ValidationError("--conf must lie in 0…1")
    }
    guard DetectionOptions.thresholdRange.contains(iou) else {
      throw ValidationError("--iou must lie in 0…1")
    }
    guard maxDetections > 0 else { throw ValidationError("--max-det must be positive") }
    guard fieldOfView == nil || focalPixels == nil else {
      throw ValidationError("give --fov-deg or --focal-px, not both")
    }
    if let fieldOfView, !(fieldOfView > 0 && fieldOfView < 180) {
      throw ValidationError("--fov-deg must lie between 0 and 180 degrees")
    }
    if let focalPixels, !(focalPixels > 0 && focalPixels.isFinite) {
      throw ValidationError("--focal-px must be positive")
    }
    if let searchCount, !(1...1000).contains(searchCount) {
      throw ValidationError("--search must be between 1 and 1000")
    }
    guard searchCount != nil || searchClasses == nil else {
      throw ValidationError("--search-classes needs --search K")
    }
    guard searchCount != nil || clipModel.modelFolder == nil else {
      throw ValidationError(
        "--model names the CLIP model used by --search; the detector's folder is --detector-model")
    }
    try server.refuse([
      ("--agnostic", agnostic), ("--max-det", maxDetections != 300), ("--annotate", annotate != nil),
      ("--search-classes", searchClasses != nil), ("--detector-model", detectorOptions.modelFolder != nil),
      ("--track", track),
    ])
  }

  func run() async throws {
    let reports: [DetectionReport]
    if let client = try server.client() {
      reports = try await runRemote(client)
    } else {
      reports = try await detectLocal()
    }
    // Failures are on standard error already; the text output lists the images that worked.
    if json { try printJSON(reports) } else { print(reports.compactMap(\.table).joined(separator: "\n")) }
    let failures = reports.filter { $0.error != nil }.count
    if failures > 0 { throw ExitCode(failures == reports.count ? 1 : 2) }
  }

  private func detectLocal() async throws -> [DetectionReport] {
    let logger = clipModel.logger("glimpse.detect")
    let detector = try detectorOptions.load(runtime: clipModel.runtime, logger: logger)
    let service = ObjectDetectionService(detector: detector)
    let options = try detectionOptions(service)
    let search = try await objectSearch(service, logger: logger)
    let paths = try imagePaths()
    let tracker = track ? StreamTracker() : nil
    var reports: [DetectionReport] = []
    for (index, path) in paths.enumerated() {
      do {
        let stream = tracker.map { StreamFrame(tracker: $0, frame: index + 1) }
        reports.append(
          try await detect(
            path, annotated: annotatedPath(index, of: paths.count), service, options, search, stream: stream)
        )
      } catch {
        printError("\(path): \(error)")
        reports.append(DetectionReport(image: path, error: "\(error)"))
      }
    }
    if let search { await closeStore(search.crops.store) }
    return reports
  }

  /// The images to read, in order: files as given, folders replaced by their JPEG, PNG and
  /// WebP files sorted by name.
  private func imagePaths() throws -> [String] {
    var paths: [String] = []
    for path in images {
      var isFolder: ObjCBool = false
      guard FileManager.default.fileExists(atPath: path, isDirectory: &isFolder), isFolder.boolValue else {
        paths.append(path)
        continue
      }
      let names = try FileManager.default.contentsOfDirectory(atPath: path).filter {
        ["jpg", "jpeg", "png", "webp"].contains(URL(fileURLWithPath: $0).pathExtension.lowercased())
      }
      guard !names.isEmpty else { throw CLIError("\(path): no JPEG, PNG or WebP images in the folder") }
      paths += names.sorted().map { URL(fileURLWithPath: path).appendingPathComponent($0).path }
    }
    return paths
  }

  private var focal: DistanceEstimator.Focal {
    if let focalPixels { return .pixels(focalPixels) }
    return .verticalFieldOfView(fieldOfView ?? DistanceEstimator.defaultVerticalFieldOfView)
  }

  private func detectionOptions(_ service: ObjectDetectionService) throws -> DetectionOptions {
    DetectionOptions(
      confidenceThreshold: confidence ?? (track ? TrackingSettings.detectionConfidence : 0.25),
      iouThreshold: iou, classAgnostic: agnostic,
      maxDetections: maxDetections, classes: try classes.map { try classSet($0, service) })
  }

  private func classSet(_ list: String, _ service: ObjectDetectionService) throws -> Set<Int> {
    do {
      return try service.classIndices(list.split(separator: ",").map(String.init))
    } catch {
      throw CLIError("\(error)")
    }
  }

  /// CLIP and the catalog, loaded only for `--search`.
  private func objectSearch(_ service: ObjectDetectionService, logger: Logger) async throws -> ObjectSearch? {
    guard let searchCount else { return nil }
    let classes = try searchClasses.map { try classSet($0, service) }
    let (clip, _) = try clipModel.load(logger: logger)
    let store = try await storeOptions.open(
      model: clip.bundle.name, dimension: clip.dimension, readOnly: true)
    return ObjectSearch(
      crops: VisualSearchService(clip: clip, store: store).cropSearch(), k: searchCount, classes: classes)
  }

  /// With several images, OUT.jpg becomes OUT-1.jpg, OUT-2.jpg, … (1-based, image order).
  private func annotatedPath(_ index: Int, of count: Int) -> String? {
    guard let annotate else { return nil }
    guard count > 1 else { return annotate }
    let url = URL(fileURLWithPath: annotate)
    let stem = url.deletingPathExtension().lastPathComponent
    let suffix = url.pathExtension.isEmpty ? "" : ".\(url.pathExtension)"
    return url.deletingLastPathComponent().appendingPathComponent("\(stem)-\(index + 1)\(suffix)").path
  }

  private func detect(
    _ path: String, annotated: String?, _ service: ObjectDetectionService, _ options: DetectionOptions,
    _ search: ObjectSearch?, stream: StreamFrame?
  ) async throws -> DetectionReport {
    let image = try decodeImage(path)
    let objects = try await service.detect(
      image, options: options, distance: DistanceEstimator(focal: focal), search: search, stream: stream)
    if let annotated {
      let drawn = Annotator().annotate(
        image, detections: objects.map(\.detection), distances: objects.map(\.distanceMetres))
      do {
        try JPEGEncoder.write(drawn, to: URL(fileURLWithPath: annotated), quality: 90)
      } catch {
        throw CLIError("cannot write \(annotated): \(error)")
      }
    }
    return DetectionReport(
      image: path, frame: stream?.frame, width: image.width, height: image.height, detections: objects,
      annotated: annotated)
  }

  /// Full-size decode (EXIF orientation applied): boxes are in the upright image's pixels.
  private func decodeImage(_ path: String) throws -> RGBImage {
    guard FileManager.default.fileExists(atPath: path) else { throw CLIError("no such file") }
    guard let data = FileManager.default.contents(atPath: path) else {
      throw CLIError("cannot read the file")
    }
    do {
      return try ImageDecoder().decode(data)
    } catch let error as ImagingError {
      throw DetectionError.undecodableImage(error)
    }
  }
}

/// What `glimpse detect` reports for one image.
struct DetectionReport: Encodable {
  var image: String
  /// The frame number (1-based) with --track.
  var frame: Int?
  var width: Int?
  var height: Int?
  var detections: [DetectedObject] = []
  var annotated: String?
  var error: String?

  /// The text output for the image; nil when it failed.
  var table: String? {
    guard error == nil else { return nil }
    let count = detections.count == 1 ? "1 object" : "\(detections.count) objects"
    var lines = ["\(image) (\(width ?? 0)×\(height ?? 0)): \(count)"]
    for object in detections {
      let box = object.box
      let distance = object.distanceMetres.map { String(format: "%.1f m", $0) } ?? "-"
      let name = object.trackID.map { "#\($0) \(object.label)" } ?? object.label
      let label = name.padding(toLength: max(16, name.count), withPad: " ", startingAt: 0)
      lines.append(
        "  \(label) "
          + String(
            format: "%.3f  [%7.1f %7.1f %7.1f %7.1f]  ", object.confidence, box.x1, box.y1, box.x2, box.y2)
          + distance)
      for (rank, match) in (object.matches ?? []).enumerated() {
        let metadata = match.metadata.isEmpty ? "" : "  \(JSONValue.object(match.metadata))"
        lines.append(String(format: "      %2d. %.4f  ", rank + 1, match.score) + match.id + metadata)
      }
    }
    if let annotated { lines.append("  annotated: \(annotated)") }
    return lines.joined(separator: "\n")
  }
}
