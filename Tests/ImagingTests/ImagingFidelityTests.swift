import Foundation
import ONNXRuntime
import Testing

@testable import Imaging

/// Fixtures and Pillow/open_clip references written by scripts/make-image-fixtures.
enum Fixtures {
  static let folder = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
    .appendingPathComponent("Fixtures/generated")

  static var images: [String] {
    let names = (try? FileManager.default.contentsOfDirectory(atPath: folder.path)) ?? []
    return names.filter { [".jpg", ".png", ".webp"].contains(where: $0.hasSuffix) }.sorted()
  }

  static func data(_ name: String) throws -> Data {
    try Data(contentsOf: folder.appendingPathComponent(name))
  }

  static func reference(_ name: String, _ suffix: String) -> URL? {
    let stem = (name as NSString).deletingPathExtension
    let url = folder.appendingPathComponent("\(stem).\(suffix).npy")
    return FileManager.default.fileExists(atPath: url.path) ? url : nil
  }

  static let clipTransform = ImageTransform(
    height: 224, width: 224, mean: [0.48145466, 0.4578275, 0.40821073],
    std: [0.26862954, 0.26130258, 0.27577711])
}

@Suite struct ImagingFidelityTests {
  @Test func fixturesExist() {
    #expect(
      Fixtures.images.count >= 28,
      "fixtures missing: run scripts/make-image-fixtures (make test does it)")
  }

  /// Decoding equals Pillow's `exif_transpose(open(f)).convert("RGB")` pixel for pixel,
  /// except lossy WebP (libwebp versions may round differently).
  @Test(arguments: Fixtures.images) func decodesLikePillow(_ name: String) throws {
    guard let reference = Fixtures.reference(name, "rgb") else { return }
    let image = try ImageDecoder().decode(Fixtures.data(name))
    let expected = try NumpyFile.read(reference)
    #expect([image.height, image.width, 3] == expected.shape)
    let expectedPixels = expected.withElements(as: UInt8.self) { Array($0) }
    let difference = zip(image.pixels, expectedPixels).map { abs(Int($0) - Int($1)) }.max() ?? 0
    let tolerance = name.hasPrefix("webp_lossy") ? 3 : 0
    #expect(difference <= tolerance, "\(name): max pixel difference \(difference)")
  }

  /// The CLIP input tensor agrees with open_clip's preprocessing within one 8-bit level.
  @Test(arguments: Fixtures.images) func clipTensorMatchesOpenCLIP(_ name: String) throws {
    let reference = try #require(Fixtures.reference(name, "clip224"))
    let image = try ImageDecoder().decode(Fixtures.data(name))
    let transform = Fixtures.clipTransform
    let cropped = transform.resizedAndCropped(image)
    var tensor = [Float](repeating: 0, count: transform.elementCount)
    tensor.withUnsafeMutableBufferPointer { transform.pack(cropped, into: $0.baseAddress!) }
    let expected = try NumpyFile.read(reference).floatValues()
    let difference = zip(tensor, expected).map { abs($0 - $1) }.max() ?? .infinity
    let oneLevel: Float = 1 / 255 / 0.26130258
    #expect(difference <= oneLevel + 1e-6, "\(name): max difference \(difference)")
  }

  @Test func appliesEveryEXIFOrientation() throws {
    for orientation in 1...8 {
      let image = try ImageDecoder().decode(Fixtures.data("jpeg_orientation_\(orientation).jpg"))
      let expectSwapped = orientation >= 5
      #expect(image.width == (expectSwapped ? 200 : 300), "orientation \(orientation)")
    }
  }

  @Test func resizeIsIdentityAtTheSameSize() {
    let image = RGBImage(width: 3, height: 2, pixels: Array(0..<18))
    #expect(Resample.resize(image, width: 3, height: 2) == image)
  }

  @Test func shortestSideArithmeticFollowsTorchvision() {
    #expect(ImageTransform.shortestSideSize(width: 640, height: 480, target: 224) == (298, 224))
    #expect(ImageTransform.shortestSideSize(width: 333, height: 1000, target: 224) == (224, 672))
  }
}

@Suite struct ImagingBadInputTests {
  @Test func emptyDataIsCorrupt() {
    #expect(throws: ImagingError.self) { try ImageDecoder().decode(Data()) }
  }

  @Test func textNamedAsImageIsCorrupt() {
    #expect {
      try ImageDecoder().decode(Data("hello, this is not a picture".utf8))
    } throws: { error in
      (error as? ImagingError)?.kind == .corrupt
    }
  }

  @Test func truncatedJPEGIsCorrupt() throws {
    let data = try Fixtures.data("jpeg_baseline_640x480.jpg")
    for fraction in [0.05, 0.5, 0.95] {
      #expect {
        try ImageDecoder().decode(data.prefix(Int(Double(data.count) * fraction)))
      } throws: { error in
        (error as? ImagingError)?.kind == .corrupt
      }
    }
  }

  @Test func truncatedPNGAndWebPAreCorrupt() throws {
    for name in ["png_rgb_500x400.png", "webp_lossy_400x300.webp"] {
      let data = try Fixtures.data(name)
      #expect(throws: ImagingError.self) { try ImageDecoder().decode(data.prefix(data.count / 2)) }
    }
  }

  /// A 30000×30000 PNG header of a few dozen bytes: refused before any pixel memory.
  @Test func decompressionBombIsRefusedFromTheHeader() {
    var png: [UInt8] = [0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A]
    let header: [UInt8] = Array("IHDR".utf8) + bigEndian(30000) + bigEndian(30000) + [8, 2, 0, 0, 0]
    png += bigEndian(13) + header + bigEndian(crc32(header))
    #expect {
      try ImageDecoder().decode(Data(png))
    } throws: { error in
      (error as? ImagingError)?.kind == .tooLarge && "\(error)".contains("30000×30000")
    }
  }

  @Test func heicIsUnsupportedMediaType() {
    let heic = Data([0, 0, 0, 24] + Array("ftypheic".utf8) + [UInt8](repeating: 0, count: 16))
    #expect {
      try ImageDecoder().decode(heic)
    } throws: { error in
      (error as? ImagingError)?.kind == .unsupportedMediaType
    }
  }

  @Test func pixelLimitIsConfigurable() throws {
    let data = try Fixtures.data("jpeg_baseline_640x480.jpg")
    #expect(throws: ImagingError.self) {
      try ImageDecoder(options: .init(maxPixels: 100_000)).decode(data)
    }
  }

  private func bigEndian(_ value: UInt32) -> [UInt8] {
    [24, 16, 8, 0].map { UInt8((value >> $0) & 0xFF) }
  }

  private func crc32(_ bytes: [UInt8]) -> UInt32 {
    var crc: UInt32 = 0xFFFF_FFFF
    for byte in bytes {
      crc ^= UInt32(byte)
      for _ in 0..<8 { crc = crc & 1 == 1 ? (crc >> 1) ^ 0xEDB8_8320 : crc >> 1 }
    }
    return ~crc
  }
}
