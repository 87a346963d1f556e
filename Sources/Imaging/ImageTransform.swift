/// Model-input preprocessing for CLIP: open_clip's eval transform (`image_transform` in
/// open_clip/transform.py), step for step, for each of its resize modes:
///
/// - `shortest`: a square size runs torchvision's `Resize(side)` (short side to `side`, long
///   side truncated) then `CenterCrop`; a non-square size runs open_clip's
///   `ResizeKeepRatio(size)` (both sides divided by the smaller ratio, rounded) then `CenterCrop`.
/// - `longest`: `ResizeKeepRatio(size, longest=1)` (the whole image fits) then
///   `CenterCropOrPad(size, fill=fill_color)`.
/// - `squash`: `Resize((height, width))`, the aspect ratio not kept.
///
/// Then `ToTensor` (/255) and `Normalize(mean, std)`, written as NCHW planes straight into the
/// model's input buffer.
public struct ImageTransform: Sendable {
  public enum ResizeMode: String, Sendable, CaseIterable { case shortest, longest, squash }

  public var height: Int
  public var width: Int
  public var mean: [Float]
  public var std: [Float]
  public var filter: Resample.Filter
  public var resizeMode: ResizeMode
  /// The gray level `longest` pads with (open_clip's `fill_color`, every channel).
  public var fillColor: UInt8
  /// open_clip's quirk: the non-square `shortest` resize is `ResizeKeepRatio(size)` without
  /// its interpolation argument, so it is always bicubic (open_clip 3.x, transform.py).
  public var nonSquareShortestFilter: Resample.Filter = .bicubic

  public init(
    height: Int, width: Int, mean: [Float], std: [Float], filter: Resample.Filter = .bicubic,
    resizeMode: ResizeMode = .shortest, fillColor: UInt8 = 0
  ) {
    self.height = height
    self.width = width
    self.mean = mean
    self.std = std
    self.filter = filter
    self.resizeMode = resizeMode
    self.fillColor = fillColor
  }

  /// Floats per image in the model input.
  public var elementCount: Int { 3 * height * width }

  /// The image resized and cropped (or padded) to the model's size, still 8-bit RGB
  /// (`geometry(width:height:)` says how).
  public func resizedAndCropped(_ image: RGBImage) -> RGBImage {
    let geometry = geometry(width: image.width, height: image.height)
    let resized = Resample.resize(
      image, width: geometry.width, height: geometry.height, filter: geometry.filter)
    return resized.framed(horizontal: geometry.horizontal, vertical: geometry.vertical, fill: geometry.fill)
  }

  /// torchvision's `_compute_resized_output_size` for an int size: the short side becomes
  /// `target`, the long side `int(target * long / short)` (truncated, as Python's int()).
  public static func shortestSideSize(width: Int, height: Int, target: Int) -> (Int, Int) {
    let (short, long) = width <= height ? (width, height) : (height, width)
    let newLong = Int(Double(target) * Double(long) / Double(short))
    return width <= height ? (target, newLong) : (newLong, target)
  }

  /// open_clip's `ResizeKeepRatio.get_params`: both sides divided by the larger (`longest`)
  /// or smaller of the two ratios source/target, each rounded half to even (Python's round).
  func keepRatioSize(width imageWidth: Int, height imageHeight: Int, longest: Bool) -> (Int, Int) {
    let ratioHeight = Double(imageHeight) / Double(height)
    let ratioWidth = Double(imageWidth) / Double(width)
    let ratio = longest ? max(ratioHeight, ratioWidth) : min(ratioHeight, ratioWidth)
    let newWidth = Int((Double(imageWidth) / ratio).rounded(.toNearestOrEven))
    let newHeight = Int((Double(imageHeight) / ratio).rounded(.toNearestOrEven))
    return (newWidth, newHeight)
  }

  /// torchvision's `center_crop` (and open_clip's `center_crop_or_pad`, which differs only in
  /// its fill): `FramePads.centred` on each axis.
  public static func centerCrop(_ image: RGBImage, width: Int, height: Int, fill: UInt8 = 0) -> RGBImage {
    image.framed(
      horizontal: .centred(size: image.width, frame: width),
      vertical: .centred(size: image.height, frame: height),
      fill: fill)
  }

  /// Writes the normalized NCHW float32 planes of an image already at the model's size.
  public func pack(_ image: RGBImage, into output: UnsafeMutablePointer<Float>) {
    precondition(image.width == width && image.height == height, "image is not at the model size")
    image.packPlanes(into: output, normalized)
  }

  /// The same in float16, for FP16 models: no float32 staging buffer.
  public func pack(_ image: RGBImage, into output: UnsafeMutablePointer<Float16>) {
    precondition(image.width == width && image.height == height, "image is not at the model size")
    image.packPlanes(into: output) { Float16(normalized($0, $1)) }
  }

  /// (v / 255 - mean) / std in float32, exactly as ToTensor + Normalize compute it.
  @inline(__always)
  private func normalized(_ byte: UInt8, _ channel: Int) -> Float {
    (Float(byte) / 255 - mean[channel]) / std[channel]
  }
}
