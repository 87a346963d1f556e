import Foundation

/// Decodes JPEG, PNG and WebP bytes into an upright `RGBImage`.
///
/// The result equals what the Python reference gets from Pillow with
/// `ImageOps.exif_transpose(Image.open(f)).convert("RGB")`, so that preprocessing can match
/// open_clip and Ultralytics. The pixel count is checked from the header before any pixel
/// memory is allocated, so a decompression bomb costs nothing.
public struct ImageDecoder: Sendable {
  public struct Options: Sendable {
    /// Largest accepted width × height (default 50 megapixels).
    public var maxPixels: Int = 50_000_000
    /// When set, JPEGs are decoded at the smallest DCT scale (1/2, 1/4, 1/8) whose shorter
    /// side is still at least this many pixels: a 12 MP photo for a 224 px model decodes at
    /// 1/8 size, many times faster. nil decodes at full size, exactly like the reference.
    public var minimumShortSide: Int? = nil
    /// Called with the decoded pixel count (after DCT scaling, before EXIF rotation) as soon as
    /// the header is read and within `maxPixels`, before any pixel memory is allocated: a
    /// server reserves it from its memory budget there, and an error it throws ends the decode.
    /// The header is read once, by the decode itself.
    public var reserve: (@Sendable (_ pixels: Int) throws -> Void)? = nil

    public init(maxPixels: Int = 50_000_000, minimumShortSide: Int? = nil) {
      self.maxPixels = maxPixels
      self.minimumShortSide = minimumShortSide
    }
  }

  public var options: Options

  public init(options: Options = Options()) {
    self.options = options
  }

  public func decode(_ data: Data) throws -> RGBImage {
    try data.withUnsafeBytes { try decode($0) }
  }

  public func decode(_ bytes: UnsafeRawBufferPointer) throws -> RGBImage {
    let decoded: (image: RGBImage, orientation: Int)
    switch try Self.format(of: bytes) {
    case .jpeg: decoded = try JPEGDecoder(options: options).decode(bytes)
    case .png: decoded = try PNGDecoder(options: options).decode(bytes)
    case .webp: decoded = try WebPDecoder(options: options).decode(bytes)
    case let other: throw Self.unsupported(other)
    }
    return EXIFOrientation(rawValue: decoded.orientation)?.apply(to: decoded.image) ?? decoded.image
  }

  /// The size the image will have once decoded (after DCT scaling, before EXIF rotation),
  /// read from its header alone, within the pixel limit: what a caller reserves memory for
  /// before decoding.
  public func decodedSize(_ data: Data) throws -> (width: Int, height: Int) {
    try data.withUnsafeBytes { bytes in
      switch try Self.format(of: bytes) {
      case .jpeg: return try JPEGDecoder(options: options).decodedSize(bytes)
      case .png: return try PNGDecoder(options: options).declaredSize(bytes.bindMemory(to: UInt8.self))
      case .webp: return try WebPDecoder(options: options).declaredSize(bytes)
      case let other: throw Self.unsupported(other)
      }
    }
  }

  /// The format of `bytes`, or the error for empty or unrecognised data.
  private static func format(of bytes: UnsafeRawBufferPointer) throws -> ImageFormat {
    guard !bytes.isEmpty else { throw ImagingError.corrupt("empty image data") }
    guard let format = ImageFormat.sniff(bytes) else {
      // Bytes that are no image format at all are bad data (HTTP 400), unlike a real image in a
      // format Glimpse does not read, such as GIF or HEIC (HTTP 415).
      throw ImagingError.corrupt("not a JPEG, PNG or WebP image (unrecognised data)")
    }
    return format
  }

  private static func unsupported(_ format: ImageFormat) -> ImagingError {
    ImagingError.unsupported(
      "\(format.rawValue.uppercased()) images are not supported (use JPEG, PNG or WebP)")
  }

  /// Refuses images over the pixel limit, and images with no pixels. Sizes come from
  /// untrusted headers (a PNG may declare 2³²−1 × 2³²−1), so the product is computed with
  /// overflow checking.
  func checkSize(width: Int, height: Int) throws {
    guard width > 0, height > 0 else {
      throw ImagingError.corrupt("image has no pixels (\(width)×\(height))")
    }
    let (pixels, overflow) = width.multipliedReportingOverflow(by: height)
    guard !overflow, pixels <= options.maxPixels else {
      throw ImagingError(
        kind: .tooLarge,
        message: "image is \(width)×\(height) pixels, over the limit of \(options.maxPixels) pixels")
    }
  }
}
