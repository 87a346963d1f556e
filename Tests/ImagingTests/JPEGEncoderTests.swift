import Foundation
import Imaging
import Testing

/// The TurboJPEG encoder round trip and the crop-with-margin helper.
@Suite struct JPEGEncoderTests {
  /// A smooth gradient with a sharp square: easy on JPEG except at the square's edges. Images
  /// under 32 px are one flat colour: over a few pixels any gradient is a hard edge, and 4:2:0
  /// chroma subsampling smears it (Pillow's encoder gives the same 22 levels of error on 7×3).
  static func gradient(width: Int, height: Int) -> RGBImage {
    var image = RGBImage(width: width, height: height)
    for y in 0..<height {
      for x in 0..<width {
        let offset = (y * width + x) * 3
        let inSquare = x > width / 4 && x < width / 2 && y > height / 4 && y < height / 2
        let flat = width < 32
        image.pixels[offset] = inSquare || flat ? 230 : UInt8(x * 255 / max(width - 1, 1))
        image.pixels[offset + 1] = inSquare || flat ? 20 : UInt8(y * 255 / max(height - 1, 1))
        image.pixels[offset + 2] = 128
      }
    }
    return image
  }

  @Test(arguments: [(64, 48), (333, 517), (1, 1), (7, 3)])
  func roundTripKeepsSizeAndPixels(_ size: (Int, Int)) throws {
    let image = Self.gradient(width: size.0, height: size.1)
    let data = try JPEGEncoder.encode(image, quality: 95)
    #expect(data.starts(with: [0xFF, 0xD8, 0xFF]), "a JPEG starts with SOI")
    let decoded = try ImageDecoder().decode(data)
    #expect(decoded.width == image.width && decoded.height == image.height)
    let error = zip(image.pixels, decoded.pixels).map { abs(Int($0) - Int($1)) }.reduce(0, +)
    #expect(Double(error) / Double(image.pixels.count) < 6, "mean error per channel at quality 95")
  }

  @Test func lowerQualityGivesSmallerFiles() throws {
    let image = Self.gradient(width: 256, height: 256)
    #expect(try JPEGEncoder.encode(image, quality: 30).count < JPEGEncoder.encode(image, quality: 95).count)
  }

  @Test func refusesBadQuality() {
    #expect(throws: ImagingError.self) { try JPEGEncoder.encode(RGBImage(width: 4, height: 4), quality: 0) }
    #expect(throws: ImagingError.self) { try JPEGEncoder.encode(RGBImage(width: 4, height: 4), quality: 101) }
  }

  @Test func writesAFile() throws {
    let url = FileManager.default.temporaryDirectory.appendingPathComponent("glimpse-\(UUID()).jpg")
    defer { try? FileManager.default.removeItem(at: url) }
    try JPEGEncoder.write(Self.gradient(width: 20, height: 10), to: url)
    #expect(try ImageDecoder().decode(Data(contentsOf: url)).width == 20)
  }

  @Test func cropGrowsTheBoxByTheMargin() {
    let image = Self.gradient(width: 200, height: 100)
    let crop = image.cropped(x1: 50, y1: 20, x2: 150, y2: 70, margin: 0.1)
    // 100×50 box, 10 px and 5 px on each side.
    #expect(crop.width == 120 && crop.height == 60)
    #expect(crop == image.cropped(x: 40, y: 15, width: 120, height: 60))
  }

  @Test func cropIsClampedToTheImage() {
    let image = Self.gradient(width: 200, height: 100)
    let crop = image.cropped(x1: -30, y1: 90, x2: 250, y2: 140, margin: 0.1)
    // y: 90…140 grown by 5 px is 85…145, clamped to 85…100.
    #expect(crop.width == 200 && crop.height == 15)
  }

  @Test func degenerateBoxesStillGiveAPixel() {
    let image = Self.gradient(width: 20, height: 10)
    #expect(image.cropped(x1: 5, y1: 5, x2: 5, y2: 5).pixelCount >= 1)
    #expect(image.cropped(x1: 25, y1: 15, x2: 30, y2: 20).pixelCount == 1)
    #expect(image.cropped(x1: .nan, y1: 0, x2: 5, y2: .infinity).pixelCount >= 1)
  }
}
