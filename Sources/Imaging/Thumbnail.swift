import Foundation

/// The small picture a catalog keeps of each item for search results: the longest side at most
/// 256 pixels (never enlarged), bicubic as Pillow's, JPEG at quality 80 (10–20 KB for a photo).
public enum Thumbnail {
  public static let longestSide = 256
  public static let quality = 80

  /// JPEG bytes of `image` reduced to fit `longestSide` × `longestSide`.
  public static func jpeg(of image: RGBImage, longestSide: Int = longestSide) throws -> Data {
    let (width, height) = size(width: image.width, height: image.height, longestSide: longestSide)
    return try JPEGEncoder.encode(Resample.resize(image, width: width, height: height), quality: quality)
  }

  /// The size that keeps the aspect ratio (sides rounded, at least 1 pixel).
  public static func size(width: Int, height: Int, longestSide: Int) -> (width: Int, height: Int) {
    let longest = max(width, height)
    guard longest > longestSide else { return (width, height) }
    let scale = Double(longestSide) / Double(longest)
    return (max(1, Int((Double(width) * scale).rounded())), max(1, Int((Double(height) * scale).rounded())))
  }
}
