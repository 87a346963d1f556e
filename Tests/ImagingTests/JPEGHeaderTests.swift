import Foundation
import Testing

@testable import Imaging

/// Which JPEGs a GPU decoder takes: sequential Huffman frames in gray or YCbCr; CMYK and
/// progressive files go to the CPU decoder.
@Suite struct JPEGHeaderTests {
  static func header(_ name: String) throws -> JPEGHeader? {
    try Fixtures.data(name).withUnsafeBytes { JPEGHeader($0) }
  }

  @Test func baselineAndGrayJPEGsSuitTheGPU() throws {
    let baseline = try #require(try Self.header("jpeg_baseline_640x480.jpg"))
    #expect(baseline.frameMarker == 0xC0 && baseline.components == 3 && baseline.suitsGPUDecoding)
    let gray = try #require(try Self.header("jpeg_gray_300x200.jpg"))
    #expect(gray.components == 1 && gray.suitsGPUDecoding)
  }

  @Test func progressiveAndCMYKStayOnTheCPU() throws {
    let progressive = try #require(try Self.header("jpeg_progressive_640x480.jpg"))
    #expect(progressive.isProgressive && !progressive.suitsGPUDecoding)
    let cmyk = try #require(try Self.header("jpeg_cmyk_256x320.jpg"))
    #expect(cmyk.components == 4 && !cmyk.suitsGPUDecoding)
  }

  @Test func orientationIsRead() throws {
    #expect(try Self.header("jpeg_orientation_6.jpg")?.orientation == 6)
  }

  @Test func otherFormatsAndTruncatedHeadersHaveNone() throws {
    #expect(try Self.header("png_rgb_500x400.png") == nil)
    let truncated = try Fixtures.data("jpeg_baseline_640x480.jpg").prefix(20)
    #expect(truncated.withUnsafeBytes { JPEGHeader($0) } == nil)
  }
}
