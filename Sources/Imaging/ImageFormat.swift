/// Image container formats, recognised from their first bytes (never from file names).
public enum ImageFormat: String, Sendable, CaseIterable {
  case jpeg, png, webp, heic, avif, gif, bmp, tiff

  /// The format whose signature `bytes` starts with, or nil.
  public static func sniff(_ bytes: UnsafeRawBufferPointer) -> ImageFormat? {
    func starts(_ signature: [UInt8], at offset: Int = 0) -> Bool {
      guard bytes.count >= offset + signature.count else { return false }
      return signature.enumerated().allSatisfy { bytes[offset + $0.offset] == $0.element }
    }
    if starts([0xFF, 0xD8, 0xFF]) { return .jpeg }
    if starts([0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A]) { return .png }
    if starts(Array("RIFF".utf8)) && starts(Array("WEBP".utf8), at: 8) { return .webp }
    if starts(Array("ftyp".utf8), at: 4) {
      // ISO base media: the brand says HEIC (heic, heix, mif1, …) or AVIF.
      return starts(Array("avif".utf8), at: 8) || starts(Array("avis".utf8), at: 8) ? .avif : .heic
    }
    if starts(Array("GIF8".utf8)) { return .gif }
    if starts(Array("BM".utf8)) { return .bmp }
    if starts([0x49, 0x49, 0x2A, 0x00]) || starts([0x4D, 0x4D, 0x00, 0x2A]) { return .tiff }
    return nil
  }
}
