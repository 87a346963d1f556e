import Foundation
import Imaging
import Synchronization
import Testing

/// Hostile images: sizes that overflow, files that end early.
@Suite struct DecoderHardeningTests {
  /// Width and height as big-endian 32-bit values in a PNG IHDR; nothing else follows.
  static func pngHeader(width: UInt32, height: UInt32) -> Data {
    var bytes: [UInt8] = [0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A, 0, 0, 0, 13] + Array("IHDR".utf8)
    for value in [width, height] { bytes += withUnsafeBytes(of: value.bigEndian, Array.init) }
    return Data(bytes)
  }

  @Test(arguments: [
    [UInt32.max, UInt32.max], [UInt32.max, 2], [0x8000_0000, 0x8000_0000], [1, UInt32.max],
  ])
  func sizesThatOverflowAreTooLarge(_ size: [UInt32]) throws {
    let png = Self.pngHeader(width: size[0], height: size[1])
    #expect(throws: ImagingError.self) { try ImageDecoder().decode(png) }
    do {
      _ = try ImageDecoder().decodedSize(png)
      Issue.record("a \(size) PNG was accepted")
    } catch let error as ImagingError {
      #expect(error.kind == .tooLarge)
    }
  }

  @Test func decodedSizeIsReadFromTheHeaderWithDCTScaling() throws {
    let jpeg = try Data(contentsOf: Fixtures.folder.appendingPathComponent("jpeg_12mp_4000x3000.jpg"))
    #expect(try ImageDecoder().decodedSize(jpeg) == (4000, 3000))
    let scaled = ImageDecoder(options: .init(minimumShortSide: 224))
    let size = try scaled.decodedSize(jpeg)
    let image = try scaled.decode(jpeg)
    #expect(size == (image.width, image.height))
    #expect(size == (500, 375))
  }

  /// The `reserve` hook gets the decoded size from the one header read of the decode itself,
  /// before the pixels exist, for every format; what it throws ends the decode.
  @Test(arguments: ["jpeg_12mp_4000x3000.jpg", "png_gray_240x180.png", "webp_lossy_400x300.webp"])
  func reserveGetsTheDecodedSizeFirst(_ name: String) throws {
    struct Refused: Error {}
    let data = try Data(contentsOf: Fixtures.folder.appendingPathComponent(name))
    final class Seen: Sendable {
      let pixels = Mutex<[Int]>([])
    }
    let seen = Seen()
    var options = ImageDecoder.Options(minimumShortSide: 224)
    options.reserve = { pixels in seen.pixels.withLock { $0.append(pixels) } }
    let image = try ImageDecoder(options: options).decode(data)
    #expect(seen.pixels.withLock { $0 } == [image.width * image.height])
    options.reserve = { _ in throw Refused() }
    #expect(throws: Refused.self) { try ImageDecoder(options: options).decode(data) }
  }

  /// A 4000×4000 PNG cut after 53 KB fails deep in libpng, after every buffer exists; 1,000
  /// of each kind must leave resident memory where it was. Runs alone (GLIMPSE_LEAK_TEST).
  @Test(.enabled(if: ProcessInfo.processInfo.environment["GLIMPSE_LEAK_TEST"] == "1"))
  func truncatedPNGsDoNotLeak() throws {
    let files = ["png_truncated_rgb_4000.png", "png_truncated_gray_4000.png"]
    let pngs = try files.map { try Data(contentsOf: Fixtures.folder.appendingPathComponent("hostile/\($0)")) }
    for png in pngs { #expect(throws: ImagingError.self) { try ImageDecoder().decode(png) } }
    let before = Self.residentBytes()
    for _ in 0..<1000 {
      for png in pngs { _ = try? ImageDecoder().decode(png) }
    }
    let growth = Self.residentBytes() - before
    #expect(
      growth < 20 * 1024 * 1024, "resident memory grew by \(growth / 1_000_000) MB over 2,000 truncated PNGs")
  }

  static func residentBytes() -> Int {
    let text = (try? String(contentsOfFile: "/proc/self/statm", encoding: .utf8)) ?? "0 0"
    let pages = Int(text.split(separator: " ")[1]) ?? 0
    return pages * Int(sysconf(Int32(_SC_PAGESIZE)))
  }
}
