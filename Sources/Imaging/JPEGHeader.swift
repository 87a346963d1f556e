import Foundation

/// What a JPEG's header says about how it can be decoded, read without decoding: GPU
/// decoders (nvJPEG) take baseline and extended Huffman frames in grayscale or YCbCr; CMYK,
/// progressive, arithmetic-coded and lossless files go to the CPU decoder.
public struct JPEGHeader: Sendable, Equatable {
  /// The start-of-frame marker: 0xC0 baseline, 0xC1 extended, 0xC2 progressive, …
  public let frameMarker: UInt8
  public let components: Int
  /// EXIF orientation (1 when absent), to apply after decoding.
  public let orientation: Int
  public let isAdobe: Bool

  /// The header of `bytes`, or nil when they are not a JPEG with a frame header.
  public init?(_ bytes: UnsafeRawBufferPointer) {
    guard ImageFormat.sniff(bytes) == .jpeg else { return nil }
    let markers = JPEGMarkers(bytes)
    guard let frameMarker = markers.frameMarker else { return nil }
    self.frameMarker = frameMarker
    components = markers.components
    orientation = markers.orientation
    isAdobe = markers.isAdobe
  }

  public var isProgressive: Bool { frameMarker == 0xC2 }

  /// Whether a GPU JPEG decoder's RGB output matches the CPU decoder's colour handling:
  /// sequential Huffman (baseline or extended) frames of 1 or 3 components.
  public var suitsGPUDecoding: Bool {
    (frameMarker == 0xC0 || frameMarker == 0xC1) && (components == 1 || components == 3)
  }
}
