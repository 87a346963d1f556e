import Foundation
import Imaging
import Testing

@testable import CLIP

/// Every `preprocess_cfg.json` mode against open_clip's own eval transform (torchvision),
/// on the images and goldens scripts/make-preprocess-goldens committed.
@Suite struct PreprocessFidelityTests {
  static let folder = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
    .appendingPathComponent("Fixtures/preprocess")

  static var cases: [String: Data] {
    get throws {
      let data = try Data(contentsOf: folder.appendingPathComponent("cases.json"))
      let object = try #require(try JSONSerialization.jsonObject(with: data) as? [String: Any])
      return try object.mapValues { try JSONSerialization.data(withJSONObject: $0) }
    }
  }

  static func png(_ path: String) throws -> RGBImage {
    try ImageDecoder().decode(Data(contentsOf: folder.appendingPathComponent(path)))
  }

  static let imageNames = ["landscape-301x187", "portrait-143x250", "small-97x61"]

  @Test func everyModeIsWithinOneLevelOfOpenCLIP() throws {
    let cases = try Self.cases
    #expect(cases.count >= 9)
    for (name, cfg) in cases.sorted(by: { $0.key < $1.key }) {
      var preprocessing = CLIPPreprocessing.openCLIPDefaults(size: (224, 224))
      try preprocessing.apply(preprocessCfg: cfg)
      let transform = preprocessing.transform
      for image in Self.imageNames {
        let ours = transform.resizedAndCropped(try Self.png("images/\(image).png"))
        let expected = try Self.png("goldens/\(image).\(name).png")
        #expect(ours.width == expected.width && ours.height == expected.height, "\(image) \(name)")
        guard ours.pixels.count == expected.pixels.count else { continue }
        let worst = zip(ours.pixels, expected.pixels).map { abs(Int($0) - Int($1)) }.max() ?? 0
        #expect(worst <= 1, "\(image) \(name): max difference \(worst) levels")
      }
    }
  }

  /// `longest` keeps the whole image and pads with `fill_color`; `shortest` fills the frame.
  @Test func longestPadsWithTheFillColor() throws {
    var preprocessing = CLIPPreprocessing.openCLIPDefaults(size: (224, 224))
    try preprocessing.apply(preprocessCfg: Data(#"{"resize_mode": "longest", "fill_color": 200}"#.utf8))
    let wide = RGBImage(width: 400, height: 100, pixels: [UInt8](repeating: 10, count: 400 * 100 * 3))
    let result = preprocessing.transform.resizedAndCropped(wide)
    #expect(result.width == 224 && result.height == 224)
    #expect(result.pixels[0] == 200, "top-left is padding")
    #expect(result.pixels[(112 * 224 + 112) * 3] == 10, "the centre is the image")
  }

  @Test(arguments: [
    (#"{"resize_mode": "fit"}"#, "unknown resize_mode 'fit'"),
    (#"{"interpolation": "lanczos"}"#, "unknown interpolation 'lanczos'"),
    (#"{"fill_color": 300}"#, "fill_color 300"),
  ])
  func unknownSettingsAreClearErrors(_ json: String, _ message: String) throws {
    let folder = FileManager.default.temporaryDirectory.appendingPathComponent("preprocess-\(UUID())")
    try FileManager.default.createDirectory(
      at: folder.appendingPathComponent("visual"), withIntermediateDirectories: true)
    defer { try? FileManager.default.removeItem(at: folder) }
    try Data(#"{"embed_dim": 8, "vision_cfg": {"image_size": 224}}"#.utf8)
      .write(to: folder.appendingPathComponent("config.json"))
    try Data(json.utf8).write(to: folder.appendingPathComponent("visual/preprocess_cfg.json"))
    let error = #expect(throws: CLIPError.self) { try CLIPConfiguration.load(folder: folder) }
    #expect(error?.description.contains(message) == true, "\(String(describing: error))")
  }
}
