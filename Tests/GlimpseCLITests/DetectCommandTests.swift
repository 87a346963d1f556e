import Foundation
import Imaging
import Services
import Testing

/// `glimpse detect` end to end with the demo detector (models/test/yolo-tiny): JSON, drawn
/// images, bad models and images, and detect-then-search against a catalog made by `index`.
@Suite(.serialized) struct DetectCommandTests {
  /// What `glimpse detect --json` prints for each image.
  struct Report: Decodable {
    var image: String
    var frame: Int?
    var width: Int?
    var height: Int?
    var detections: [DetectedObject]
    var annotated: String?
    var error: String?
  }

  let folder: URL
  let street = CLIRunner.detectionImages.appendingPathComponent("street_1280x720.png").path
  let portrait = CLIRunner.detectionImages.appendingPathComponent("portrait_480x640.png").path

  init() throws {
    folder = try CLIRunner.temporaryFolder()
  }

  func reports(_ result: CLIRunner.Result) throws -> [Report] {
    try JSONDecoder().decode([Report].self, from: Data(result.stdout.utf8))
  }

  @Test func jsonGivesWellFormedDetections() throws {
    // The demo model's scores lie around 0.05–0.5: a low threshold gives boxes to check.
    let result = try CLIRunner.run(["detect", street, portrait, "--conf", "0.05", "--json"])
    #expect(result.status == 0, "\(result.stderr)")
    let reports = try reports(result)
    #expect(reports.map(\.image) == [street, portrait])
    #expect(reports.map(\.width) == [1280, 480])
    for report in reports {
      #expect(!report.detections.isEmpty)
      for object in report.detections {
        #expect(object.box.x1 >= 0 && object.box.x1 <= object.box.x2 && object.box.x2 <= Float(report.width!))
        #expect(
          object.box.y1 >= 0 && object.box.y1 <= object.box.y2 && object.box.y2 <= Float(report.height!))
        #expect(object.confidence > 0.05 && object.confidence <= 1)
        #expect((0..<80).contains(object.classID) && !object.label.isEmpty)
        #expect(object.matches == nil)
      }
      let confidences = report.detections.map(\.confidence)
      #expect(confidences == confidences.sorted(by: >), "best first")
    }
    #expect(result.stdout.contains("\"distance_m\""), "distance_m is written, null when unknown")
    #expect(result.stderr.isEmpty || !result.stderr.contains("rror"))
  }

  @Test func classFilterAndMaxDetApply() throws {
    let result = try CLIRunner.run([
      "detect", street, "--conf", "0.02", "--classes", "person,2,dog", "--max-det", "3", "--json",
    ])
    #expect(result.status == 0, "\(result.stderr)")
    let detections = try reports(result)[0].detections
    #expect(detections.count <= 3)
    #expect(detections.allSatisfy { [0, 2, 16].contains($0.classID) })
  }

  @Test func annotateWritesAJPEGOfTheSameSizeWithBoxesDrawn() throws {
    let output = folder.appendingPathComponent("drawn.jpg").path
    let result = try CLIRunner.run(["detect", portrait, "--conf", "0.05", "--annotate", output, "--json"])
    #expect(result.status == 0, "\(result.stderr)")
    let report = try reports(result)[0]
    #expect(report.annotated == output)
    let drawn = try ImageDecoder().decode(Data(contentsOf: URL(fileURLWithPath: output)))
    let input = try ImageDecoder().decode(Data(contentsOf: URL(fileURLWithPath: portrait)))
    #expect(drawn.width == input.width && drawn.height == input.height)
    // Along the left edge of the best box (3 px thick outline), the pixels must have changed.
    let box = try #require(report.detections.first?.box)
    let x = Int(box.x1.rounded()) + 1
    let rows = Int(box.y1.rounded())..<Int(box.y2.rounded())
    let change = rows.map { y in
      (0..<3).map {
        abs(
          Int(drawn.pixels[(y * input.width + x) * 3 + $0])
            - Int(input.pixels[(y * input.width + x) * 3 + $0]))
      }
      .reduce(0, +)
    }
    #expect(Double(change.reduce(0, +)) / Double(change.count) > 60, "the outline differs from the photo")
  }

  @Test func annotateWithSeveralImagesNumbersTheFiles() throws {
    let output = folder.appendingPathComponent("out.jpg").path
    let result = try CLIRunner.run(["detect", street, portrait, "--annotate", output])
    #expect(result.status == 0, "\(result.stderr)")
    for index in [1, 2] {
      #expect(FileManager.default.fileExists(atPath: folder.appendingPathComponent("out-\(index).jpg").path))
    }
    #expect(!FileManager.default.fileExists(atPath: output))
  }

  @Test func aCLIPModelIsNotADetector() throws {
    let folderResult = try CLIRunner.run(["detect", street, "--detector-model", CLIRunner.tinyModel])
    #expect(folderResult.status == 1)
    #expect(folderResult.stderr.contains("is a CLIP model folder"))
    let fileResult = try CLIRunner.run([
      "detect", street, "--detector-model", CLIRunner.tinyModel + "/visual/model.onnx",
    ])
    #expect(fileResult.status == 1)
    #expect(fileResult.stderr.contains("not a YOLO detection model"))
  }

  @Test func corruptFilesAndStripsAreClearErrors() throws {
    let corrupt = folder.appendingPathComponent("corrupt.jpg")
    try Data([0xFF, 0xD8, 0xFF, 0xE0, 0x00, 0x10, 0x4A, 0x46, 0x49, 0x46]).write(to: corrupt)
    let strip = folder.appendingPathComponent("strip.jpg")
    try JPEGEncoder.write(RGBImage(width: 1, height: 10_000), to: strip)

    let broken = try CLIRunner.run(["detect", corrupt.path])
    #expect(broken.status == 1)
    #expect(broken.stderr.contains("\(corrupt.path): cannot decode the image"))
    let thin = try CLIRunner.run(["detect", strip.path, "--json"])
    #expect(thin.status == 1)
    #expect(thin.stderr.contains("image is 1×10000; detection needs at least 8 pixels"))
    #expect(try reports(thin)[0].error != nil)
    let mixed = try CLIRunner.run(["detect", strip.path, street])
    #expect(mixed.status == 2, "partial success")
    #expect(mixed.stdout.contains("street_1280x720.png (1280×720)"))
  }

  @Test func badFlagsAreRefused() throws {
    let cases: [([String], String)] = [
      (["--conf", "1.5"], "--conf must lie in 0…1"),
      (["--fov-deg", "60", "--focal-px", "800"], "give --fov-deg or --focal-px, not both"),
      (["--search-classes", "person"], "--search-classes needs --search K"),
      (["--model", CLIRunner.tinyModel], "the detector's folder is --detector-model"),
    ]
    for (flags, message) in cases {
      let result = try CLIRunner.run(["detect", street] + flags)
      #expect(result.status == 64, "\(flags)")
      #expect(result.stderr.contains(message), "\(flags): \(result.stderr)")
    }
    let unknown = try CLIRunner.run(["detect", street, "--classes", "person,unicorn"])
    #expect(unknown.status == 1)
    #expect(unknown.stderr.contains("unknown class 'unicorn'"))
  }

  @Test func detectThenSearchAttachesCatalogMatches() throws {
    let photos = folder.appendingPathComponent("photos")
    try FileManager.default.createDirectory(at: photos, withIntermediateDirectories: true)
    for name in ["street_1280x720.png", "portrait_480x640.png", "odd_333x517.png", "exact3x_288x288.png"] {
      try FileManager.default.copyItem(
        at: CLIRunner.detectionImages.appendingPathComponent(name), to: photos.appendingPathComponent(name))
    }
    let store = folder.appendingPathComponent("catalog.sqlite").path
    let index = try CLIRunner.run(["index", photos.path, "--store", store])
    #expect(index.status == 0, "\(index.stderr)")

    let result = try CLIRunner.run([
      "detect", street, "--conf", "0.05", "--max-det", "5", "--search", "2", "--store", store, "--json",
    ])
    #expect(result.status == 0, "\(result.stderr)")
    let detections = try reports(result)[0].detections
    #expect(!detections.isEmpty)
    let indexed = Set([
      "street_1280x720.png", "portrait_480x640.png", "odd_333x517.png", "exact3x_288x288.png",
    ])
    for object in detections {
      let matches = try #require(object.matches)
      #expect(matches.count == 2)
      #expect(matches.allSatisfy { indexed.contains($0.id) })
      #expect(matches[0].score >= matches[1].score)
    }

    let onlyFirstClass = try #require(detections.first?.label)
    let filtered = try CLIRunner.run([
      "detect", street, "--conf", "0.05", "--max-det", "5", "--search", "1", "--search-classes",
      onlyFirstClass,
      "--store", store, "--json",
    ])
    for object in try reports(filtered)[0].detections {
      #expect((object.matches != nil) == (object.label == onlyFirstClass))
    }
  }

  /// `--track` over a folder: its images in name order are the frames of one video (other
  /// files skipped); on a still scene every object keeps its track id from frame to frame.
  @Test func trackFollowsObjectsAcrossAFolderOfFrames() throws {
    let frames = folder.appendingPathComponent("frames")
    try FileManager.default.createDirectory(at: frames, withIntermediateDirectories: true)
    for name in ["frame-003.png", "frame-001.png", "frame-002.png"] {
      try FileManager.default.copyItem(
        at: CLIRunner.detectionImages.appendingPathComponent("street_1280x720.png"),
        to: frames.appendingPathComponent(name))
    }
    try Data("not a frame".utf8).write(to: frames.appendingPathComponent("notes.txt"))
    let result = try CLIRunner.run(["detect", frames.path, "--track", "--conf", "0.3", "--json"])
    #expect(result.status == 0, "\(result.stderr)")
    let reports = try reports(result)
    #expect(
      reports.map { URL(fileURLWithPath: $0.image).lastPathComponent } == [
        "frame-001.png", "frame-002.png", "frame-003.png",
      ])
    #expect(reports.map(\.frame) == [1, 2, 3])
    let ids = reports.map { $0.detections.map { $0.trackID } }
    #expect(!ids[0].isEmpty && ids.allSatisfy { $0.allSatisfy { $0 != nil } })
    #expect(Set(ids[0]) == Set(ids[1]) && Set(ids[1]) == Set(ids[2]), "\(ids)")
    let text = try CLIRunner.run(["detect", frames.path, "--track", "--conf", "0.3"])
    #expect(text.stdout.contains("#1 "), "the table names tracks: \(text.stdout.prefix(300))")
  }
}
