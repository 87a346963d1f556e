import Foundation
import Imaging

/// An 8-bit RGB colour.
public struct RGBColor: Sendable, Equatable {
  public var red: UInt8
  public var green: UInt8
  public var blue: UInt8

  public init(red: UInt8, green: UInt8, blue: UInt8) {
    self.red = red
    self.green = green
    self.blue = blue
  }

  init(hex: UInt32) {
    self.init(red: UInt8(hex >> 16 & 0xFF), green: UInt8(hex >> 8 & 0xFF), blue: UInt8(hex & 0xFF))
  }

  public static let white = RGBColor(red: 255, green: 255, blue: 255)
  public static let black = RGBColor(red: 0, green: 0, blue: 0)

  /// Rec. 601 luma: dark backgrounds get white text, light ones black.
  var isLight: Bool { 299 * Int(red) + 587 * Int(green) + 114 * Int(blue) > 150_000 }
}

/// One box to draw with its caption.
public struct Annotation: Sendable, Equatable {
  public var box: BoundingBox
  public var caption: String
  public var color: RGBColor

  public init(box: BoundingBox, caption: String, color: RGBColor) {
    self.box = box
    self.caption = caption
    self.color = color
  }
}

/// Draws detection boxes and captions (label, confidence, distance) onto an image: box
/// outlines, a filled caption background above the box (inside it when the box touches the
/// top edge), and the caption in the built-in `BitmapFont`. Everything is clipped to the image.
public struct Annotator: Sendable {
  /// Outline thickness in pixels.
  public var lineWidth: Int
  /// Font magnification: 2 makes the 5×7 glyphs 10×14, legible on photos.
  public var fontScale: Int

  public init(lineWidth: Int = 3, fontScale: Int = 2) {
    self.lineWidth = max(1, lineWidth)
    self.fontScale = max(1, fontScale)
  }

  /// Ultralytics' default palette, so that annotated images look like theirs: colour by class.
  static let palette: [RGBColor] = [
    0xFF3838, 0xFF9D97, 0xFF701F, 0xFFB21D, 0xCFD231, 0x48F90A, 0x92CC17, 0x3DDB86, 0x1A9334, 0x00D4BB,
    0x2C99A8, 0x00C2FF, 0x344593, 0x6473FF, 0x0018EC, 0x8438FF, 0x520085, 0xCB38FF, 0xFF95C8, 0xFF37C7,
  ].map(RGBColor.init(hex:))

  public static func color(forClass classIndex: Int) -> RGBColor {
    palette[abs(classIndex) % palette.count]
  }

  /// "PERSON 0.91 5.3m": label, confidence, and the distance when there is one. The label is in
  /// capitals, the font's letters; the unit keeps its lower-case m (not M, mega).
  public static func caption(for detection: Detection, distanceMetres: Double?) -> String {
    var caption = "\(detection.label.uppercased()) " + String(format: "%.2f", detection.confidence)
    if let distanceMetres { caption += String(format: " %.1fm", distanceMetres) }
    return caption
  }

  /// The image with each detection boxed and captioned; `distances` pairs with `detections`.
  public func annotate(_ image: RGBImage, detections: [Detection], distances: [Double?] = []) -> RGBImage {
    let annotations = detections.enumerated().map { index, detection in
      Annotation(
        box: detection.box,
        caption: Self.caption(
          for: detection, distanceMetres: index < distances.count ? distances[index] : nil),
        color: Self.color(forClass: detection.classIndex))
    }
    return draw(annotations, on: image)
  }

  /// Draws all outlines first, then all captions, so no outline crosses a caption.
  public func draw(_ annotations: [Annotation], on image: RGBImage) -> RGBImage {
    var canvas = Canvas(image: image)
    for annotation in annotations { drawOutline(annotation, on: &canvas) }
    for annotation in annotations { drawCaption(annotation, on: &canvas) }
    return canvas.image
  }

  private func drawOutline(_ annotation: Annotation, on canvas: inout Canvas) {
    let box = annotation.box
    guard box.x1.isFinite, box.y1.isFinite, box.x2.isFinite, box.y2.isFinite else { return }
    let left = pixel(box.x1), top = pixel(box.y1)
    let right = pixel(box.x2) - 1, bottom = pixel(box.y2) - 1
    let line = lineWidth
    // Lines lie inside the box, so a box at the image edge keeps its full thickness.
    canvas.fill(x0: left, y0: top, x1: right, y1: top + line - 1, annotation.color)
    canvas.fill(x0: left, y0: bottom - line + 1, x1: right, y1: bottom, annotation.color)
    canvas.fill(x0: left, y0: top, x1: left + line - 1, y1: bottom, annotation.color)
    canvas.fill(x0: right - line + 1, y0: top, x1: right, y1: bottom, annotation.color)
  }

  private func drawCaption(_ annotation: Annotation, on canvas: inout Canvas) {
    let box = annotation.box
    guard box.x1.isFinite, box.y1.isFinite, !annotation.caption.isEmpty else { return }
    let padding = fontScale
    let width = BitmapFont.width(of: annotation.caption, scale: fontScale) + 2 * padding
    let height = BitmapFont.glyphHeight * fontScale + 2 * padding
    let left = min(max(pixel(box.x1), 0), max(canvas.image.width - width, 0))
    let boxTop = pixel(box.y1)
    let top = boxTop - height >= 0 ? boxTop - height : max(boxTop, 0)
    canvas.fill(x0: left, y0: top, x1: left + width - 1, y1: top + height - 1, annotation.color)
    let ink = annotation.color.isLight ? RGBColor.black : RGBColor.white
    canvas.write(annotation.caption, x: left + padding, y: top + padding, scale: fontScale, color: ink)
  }
}

/// The nearest pixel, bounded so that absurd coordinates cannot overflow `Int`.
private func pixel(_ coordinate: Float) -> Int {
  Int(min(max(coordinate, -1_000_000), 1_000_000).rounded())
}

/// Pixel-level drawing on a copy of an image, clipped to its bounds.
struct Canvas {
  var image: RGBImage

  /// Fills the rectangle with inclusive corners (x0, y0)–(x1, y1), clipped.
  mutating func fill(x0: Int, y0: Int, x1: Int, y1: Int, _ color: RGBColor) {
    let left = max(x0, 0), right = min(x1, image.width - 1)
    let top = max(y0, 0), bottom = min(y1, image.height - 1)
    guard left <= right, top <= bottom else { return }
    let width = image.width
    image.pixels.withUnsafeMutableBufferPointer { pixels in
      for y in top...bottom {
        for x in left...right {
          let offset = (y * width + x) * 3
          pixels[offset] = color.red
          pixels[offset + 1] = color.green
          pixels[offset + 2] = color.blue
        }
      }
    }
  }

  /// Draws `text` with its top-left corner at (x, y), each font pixel a `scale`² square.
  mutating func write(_ text: String, x: Int, y: Int, scale: Int, color: RGBColor) {
    for (index, character) in text.enumerated() {
      let glyphX = x + index * BitmapFont.advance * scale
      for (row, bits) in BitmapFont.rows(for: character).enumerated() {
        for column in 0..<BitmapFont.glyphWidth where bits >> (BitmapFont.glyphWidth - 1 - column) & 1 == 1 {
          let pixelX = glyphX + column * scale, pixelY = y + row * scale
          fill(x0: pixelX, y0: pixelY, x1: pixelX + scale - 1, y1: pixelY + scale - 1, color)
        }
      }
    }
  }
}
