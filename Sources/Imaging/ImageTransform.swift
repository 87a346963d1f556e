/// Model-input preprocessing for CLIP: open_clip's eval transform, step for step:
/// `Resize(shortest side, BICUBIC)` → `CenterCrop` → `ToTensor` (/255) → `Normalize(mean, std)`,
/// written as NCHW planes straight into the model's input buffer.
public struct ImageTransform: Sendable {
  public enum ResizeMode: Sendable { case shortest, squash }

  public var height: Int
  public var width: Int
  public var mean: [Float]
  public var std: [Float]
  public var filter: Resample.Filter
  public var resizeMode: ResizeMode

  public init(
    height: Int, width: Int, mean: [Float], std: [Float], filter: Resample.Filter = .bicubic,
    resizeMode: ResizeMode = .shortest
  ) {
    self.height = height
    self.width = width
    self.mean = mean
    self.std = std
    self.filter = filter
    self.resizeMode = resizeMode
  }

  /// Floats per image in the model input.
  public var elementCount: Int { 3 * height * width }

  /// The image resized and cropped to the model's size, still 8-bit RGB.
  public func resizedAndCropped(_ image: RGBImage) -> RGBImage {
    switch resizeMode {
    case .squash:
      return Resample.resize(image, width: width, height: height, filter: filter)
    case .shortest:
      let (newWidth, newHeight) = Self.shortestSideSize(
        width: image.width, height: image.height, target: min(height, width))
      let resized = Resample.resize(image, width: newWidth, height: newHeight, filter: filter)
      return Self.centerCrop(resized, width: width, height: height)
    }
  }

  /// torchvision's `_compute_resized_output_size` for an int size: the short side becomes
  /// `target`, the long side `int(target * long / short)` (truncated, as Python's int()).
  public static func shortestSideSize(width: Int, height: Int, target: Int) -> (Int, Int) {
    let (short, long) = width <= height ? (width, height) : (height, width)
    let newLong = Int(Double(target) * Double(long) / Double(short))
    return width <= height ? (target, newLong) : (newLong, target)
  }

  /// torchvision's `center_crop`: offsets `int(round((size - crop) / 2))` with Python's
  /// round-half-to-even, padding with black where the image is smaller than the crop.
  public static func centerCrop(_ image: RGBImage, width: Int, height: Int) -> RGBImage {
    if image.width >= width && image.height >= height {
      let left = Int((Double(image.width - width) / 2).rounded(.toNearestOrEven))
      let top = Int((Double(image.height - height) / 2).rounded(.toNearestOrEven))
      return image.cropped(x: left, y: top, width: width, height: height)
    }
    // torchvision pads (fill 0) to at least the crop size, then crops.
    let paddedWidth = max(image.width, width)
    let paddedHeight = max(image.height, height)
    let padLeft = (paddedWidth - image.width) / 2
    let padTop = (paddedHeight - image.height) / 2
    var padded = RGBImage(width: paddedWidth, height: paddedHeight)
    for row in 0..<image.height {
      let from = row * image.width * 3
      let to = ((row + padTop) * paddedWidth + padLeft) * 3
      padded.pixels.replaceSubrange(
        to..<to + image.width * 3, with: image.pixels[from..<from + image.width * 3])
    }
    return centerCrop(padded, width: width, height: height)
  }

  /// Writes the normalized NCHW float32 planes of an image already at the model's size.
  public func pack(_ image: RGBImage, into output: UnsafeMutablePointer<Float>) {
    packPlanes(image) { index, value in output[index] = value }
  }

  /// The same in float16, for FP16 models: no float32 staging buffer.
  public func pack(_ image: RGBImage, into output: UnsafeMutablePointer<Float16>) {
    packPlanes(image) { index, value in output[index] = Float16(value) }
  }

  @inline(__always)
  private func packPlanes(_ image: RGBImage, _ store: (Int, Float) -> Void) {
    precondition(image.width == width && image.height == height, "image is not at the model size")
    let plane = width * height
    // (v / 255 - mean) / std in float32, exactly as ToTensor + Normalize compute it.
    for channel in 0..<3 {
      let mean = self.mean[channel]
      let std = self.std[channel]
      image.pixels.withUnsafeBufferPointer { pixels in
        for index in 0..<plane {
          store(channel * plane + index, (Float(pixels[index * 3 + channel]) / 255 - mean) / std)
        }
      }
    }
  }
}
