import Foundation
import ONNXRuntime
import Testing

@testable import Imaging

/// Pillow's `Image.resize` on crops of one source at random sizes (scripts/make-image-fixtures).
@Suite struct ResampleTests {
  static let folder = Fixtures.folder.appendingPathComponent("resize")

  static var cases: [String] {
    let names = (try? FileManager.default.contentsOfDirectory(atPath: folder.path)) ?? []
    return names.filter { $0.hasPrefix("bi") }.sorted()
  }

  @Test func casesExist() {
    #expect(Self.cases.count >= 40, "run scripts/make-image-fixtures")
  }

  @Test(arguments: cases) func matchesPillowExactly(_ name: String) throws {
    // bicubic_120x80_to_60x200.npy
    let parts = name.dropLast(4).split(separator: "_")
    let input = parts[1].split(separator: "x").map { Int($0)! }
    let output = parts[3].split(separator: "x").map { Int($0)! }
    let source = try NumpyFile.read(Self.folder.appendingPathComponent("source.npy"))
    let full = RGBImage(
      width: source.shape[1], height: source.shape[0],
      pixels: source.withElements(as: UInt8.self) { Array($0) })
    let crop = full.cropped(x: 0, y: 0, width: input[0], height: input[1])
    let filter: Resample.Filter = parts[0] == "bicubic" ? .bicubic : .bilinear
    let resized = Resample.resize(crop, width: output[0], height: output[1], filter: filter)
    let expected = try NumpyFile.read(Self.folder.appendingPathComponent(name))
    #expect(resized.pixels == expected.withElements(as: UInt8.self) { Array($0) }, "\(name)")
  }

  @Test func passOrderFollowsPillow13() {
    #expect(Resample.verticalFirst(inputWidth: 333, inputHeight: 1000, width: 224, height: 672))
    #expect(!Resample.verticalFirst(inputWidth: 1000, inputHeight: 333, width: 672, height: 224))
    #expect(!Resample.verticalFirst(inputWidth: 400, inputHeight: 400, width: 300, height: 200))
  }
}
