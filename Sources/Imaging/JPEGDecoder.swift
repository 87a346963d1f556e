import CImageCodecs

/// JPEG through TurboJPEG: baseline, progressive, grayscale, CMYK and YCCK.
struct JPEGDecoder {
  let options: ImageDecoder.Options

  func decode(_ bytes: UnsafeRawBufferPointer) throws -> (image: RGBImage, orientation: Int) {
    let markers = JPEGMarkers(bytes)
    guard let handle = tjInitDecompress() else { throw ImagingError.corrupt("TurboJPEG failed to start") }
    defer { tjDestroy(handle) }
    let source = bytes.bindMemory(to: UInt8.self)
    let header = try readHeader(handle, bytes)
    let (scaledWidth, scaledHeight) = scaledSize(width: header.width, height: header.height)
    try options.reserve?(scaledWidth * scaledHeight)
    let isCMYK =
      header.colorspace == Int32(TJCS_CMYK.rawValue) || header.colorspace == Int32(TJCS_YCCK.rawValue)
    let channels = isCMYK ? 4 : 3
    var output = [UInt8](repeating: 0, count: scaledWidth * scaledHeight * channels)
    let status = output.withUnsafeMutableBufferPointer { target in
      tjDecompress2(
        handle, source.baseAddress, UInt(bytes.count), target.baseAddress, Int32(scaledWidth), 0,
        Int32(scaledHeight), Int32(isCMYK ? TJPF_CMYK.rawValue : TJPF_RGB.rawValue),
        Int32(TJFLAG_ACCURATEDCT))
    }
    if status != 0 { try checkWarning(handle) }
    let pixels = isCMYK ? cmykToRGB(output, inverted: markers.isAdobe) : output
    return (RGBImage(width: scaledWidth, height: scaledHeight, pixels: pixels), markers.orientation)
  }

  /// The size `decode` will produce, from the header alone.
  func decodedSize(_ bytes: UnsafeRawBufferPointer) throws -> (width: Int, height: Int) {
    guard let handle = tjInitDecompress() else { throw ImagingError.corrupt("TurboJPEG failed to start") }
    defer { tjDestroy(handle) }
    let header = try readHeader(handle, bytes)
    return scaledSize(width: header.width, height: header.height)
  }

  /// Width, height and colour space from the header, within the pixel limit.
  private func readHeader(_ handle: tjhandle, _ bytes: UnsafeRawBufferPointer) throws
    -> (width: Int, height: Int, colorspace: Int32)
  {
    var width: Int32 = 0
    var height: Int32 = 0
    var subsampling: Int32 = 0
    var colorspace: Int32 = 0
    guard
      tjDecompressHeader3(
        handle, bytes.bindMemory(to: UInt8.self).baseAddress, UInt(bytes.count), &width, &height,
        &subsampling, &colorspace) == 0
    else { throw ImagingError.corrupt("invalid JPEG: \(errorMessage(handle))") }
    try ImageDecoder(options: options).checkSize(width: Int(width), height: Int(height))
    return (Int(width), Int(height), colorspace)
  }

  /// The reduced size for the DCT-scaling fast path, or the full size.
  private func scaledSize(width: Int, height: Int) -> (Int, Int) {
    guard let minimum = options.minimumShortSide else { return (width, height) }
    var best = (width, height)
    for denominator in [2, 4, 8] {
      let scaledWidth = (width + denominator - 1) / denominator
      let scaledHeight = (height + denominator - 1) / denominator
      guard min(scaledWidth, scaledHeight) >= minimum else { break }
      best = (scaledWidth, scaledHeight)
    }
    return best
  }

  /// TurboJPEG returns -1 for warnings too. Pillow refuses a truncated file ("image file is
  /// truncated") but tolerates other recoverable damage; Glimpse does the same.
  private func checkWarning(_ handle: tjhandle) throws {
    let message = errorMessage(handle)
    let isWarning = tjGetErrorCode(handle) == Int32(TJERR_WARNING.rawValue)
    if !isWarning || message.contains("Premature end") {
      throw ImagingError.corrupt("corrupt or truncated JPEG: \(message)")
    }
  }

  private func errorMessage(_ handle: tjhandle) -> String {
    tjGetErrorStr2(handle).map { String(cString: $0) } ?? "unknown error"
  }

  /// Pillow's CMYK → RGB: each channel is (255 − k) − c·(255 − k)/255, rounded as Pillow's
  /// MULDIV255. Adobe JPEGs store inverted CMYK, which Pillow reads as "CMYK;I".
  private func cmykToRGB(_ cmyk: [UInt8], inverted: Bool) -> [UInt8] {
    let count = cmyk.count / 4
    var rgb = [UInt8](repeating: 0, count: count * 3)
    for pixel in 0..<count {
      var values = (0..<4).map { Int(cmyk[pixel * 4 + $0]) }
      if inverted { values = values.map { 255 - $0 } }
      let notBlack = 255 - values[3]
      for channel in 0..<3 {
        let product = values[channel] * notBlack + 128
        let scaled = ((product >> 8) + product) >> 8
        rgb[pixel * 3 + channel] = UInt8(clamping: notBlack - scaled)
      }
    }
    return rgb
  }
}

/// What the JPEG's marker segments before the image data say: the EXIF orientation,
/// whether an Adobe APP14 segment marks inverted CMYK, and the frame's kind and components.
struct JPEGMarkers {
  var orientation = 1
  var isAdobe = false
  /// The start-of-frame marker (0xC0 baseline, 0xC1 extended, 0xC2 progressive, …).
  var frameMarker: UInt8?
  var components = 0

  init(_ bytes: UnsafeRawBufferPointer) {
    var offset = 2
    while offset + 4 <= bytes.count, bytes[offset] == 0xFF {
      let marker = bytes[offset + 1]
      if marker == 0xDA || marker == 0xD9 { break }  // start of scan / end of image
      let length = Int(bytes[offset + 2]) << 8 | Int(bytes[offset + 3])
      let payloadStart = offset + 4
      let payloadEnd = min(offset + 2 + length, bytes.count)
      guard length >= 2, payloadStart <= payloadEnd else { break }
      let payload = UnsafeRawBufferPointer(rebasing: bytes[payloadStart..<payloadEnd])
      if marker == 0xE1, payload.starts(with: Array("Exif\0\0".utf8)) {
        orientation = EXIFOrientation.read(tiff: UnsafeRawBufferPointer(rebasing: payload[6...]))
      } else if marker == 0xEE, payload.starts(with: Array("Adobe".utf8)) {
        isAdobe = true
      } else if (0xC0...0xCF).contains(marker), ![0xC4, 0xC8, 0xCC].contains(marker), payload.count >= 6 {
        // SOFn: precision, height, width, then the number of components.
        frameMarker = marker
        components = Int(payload[5])
      }
      offset = offset + 2 + length
    }
  }
}
