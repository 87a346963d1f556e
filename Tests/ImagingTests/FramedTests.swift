import Testing

@testable import Imaging

/// `RGBImage.framed`: pads and crops per axis, in any mix (open_clip's `longest` can crop one
/// axis by a rounding pixel and pad the other).
@Suite struct FramedTests {
  /// A width × height image whose red channel numbers the pixels in reading order from 1.
  static func numbered(width: Int, height: Int) -> RGBImage {
    RGBImage(
      width: width, height: height,
      pixels: (0..<width * height).flatMap { [UInt8($0 + 1), 0, 0] })
  }

  static func reds(_ image: RGBImage) -> [[UInt8]] {
    (0..<image.height).map { row in (0..<image.width).map { image.pixels[(row * image.width + $0) * 3] } }
  }

  @Test func cropsOneAxisAndPadsTheOther() {
    let image = Self.numbered(width: 4, height: 2)
    let framed = image.framed(
      horizontal: FramePads(before: -1, after: -1), vertical: FramePads(before: 1, after: 0), fill: 9)
    #expect(framed.width == 2 && framed.height == 3)
    #expect(Self.reds(framed) == [[9, 9], [2, 3], [6, 7]])
  }

  @Test func padsBothAxes() {
    let framed = Self.numbered(width: 1, height: 1).framed(
      horizontal: FramePads(before: 1, after: 1), vertical: FramePads(before: 0, after: 1), fill: 0)
    #expect(Self.reds(framed) == [[0, 1, 0], [0, 0, 0]])
  }

  @Test func centredPadsFollowTorchvision() {
    // center_crop: offset int(round((size - crop) / 2)), half to even; pad (crop - size) // 2 first.
    #expect(FramePads.centred(size: 391, frame: 224) == FramePads(before: -84, after: -83))
    #expect(FramePads.centred(size: 225, frame: 224) == FramePads(before: 0, after: -1))
    #expect(FramePads.centred(size: 227, frame: 224) == FramePads(before: -2, after: -1))
    #expect(FramePads.centred(size: 192, frame: 336) == FramePads(before: 72, after: 72))
    #expect(FramePads.centred(size: 191, frame: 336) == FramePads(before: 72, after: 73))
  }
}
