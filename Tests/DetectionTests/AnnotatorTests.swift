import Foundation
import Imaging
import Testing

@testable import Detection

/// Boxes and captions drawn by `Annotator`, and the built-in font.
@Suite struct AnnotatorTests {
  static let grey = RGBImage(
    width: 200, height: 120, pixels: [UInt8](repeating: 100, count: 200 * 120 * 3))

  static func pixel(_ image: RGBImage, _ x: Int, _ y: Int) -> RGBColor {
    let offset = (y * image.width + x) * 3
    return RGBColor(
      red: image.pixels[offset], green: image.pixels[offset + 1], blue: image.pixels[offset + 2])
  }

  static let red = RGBColor(red: 255, green: 0, blue: 0)

  @Test func drawsTheOutlineInsideTheBoxAndLeavesTheInside() {
    let box = BoundingBox(x1: 50, y1: 60, x2: 150, y2: 110)
    let drawn = Annotator(lineWidth: 3).draw(
      [Annotation(box: box, caption: "", color: Self.red)], on: Self.grey)
    #expect(drawn.width == 200 && drawn.height == 120)
    for (x, y) in [(50, 60), (52, 80), (149, 109), (100, 62), (147, 90)] {
      #expect(Self.pixel(drawn, x, y) == Self.red, "outline at \(x),\(y)")
    }
    for (x, y) in [(53, 63), (100, 85), (49, 80), (150, 80), (100, 111)] {
      #expect(Self.pixel(drawn, x, y) == RGBColor(red: 100, green: 100, blue: 100), "untouched at \(x),\(y)")
    }
  }

  @Test func captionSitsAboveTheBoxOnItsColour() {
    let box = BoundingBox(x1: 50, y1: 60, x2: 150, y2: 110)
    let drawn = Annotator(fontScale: 2).draw(
      [Annotation(box: box, caption: "CAR 0.91", color: Self.red)], on: Self.grey)
    // The caption is 7×2 + 2×2 = 18 px tall, right above y = 60; its padding is background.
    #expect(Self.pixel(drawn, 51, 43) == Self.red)
    let text = (42..<60).flatMap { y in (50..<150).map { x in Self.pixel(drawn, x, y) } }
    #expect(text.contains(.white), "white text on a dark red background")
    #expect(Self.pixel(drawn, 51, 40) == RGBColor(red: 100, green: 100, blue: 100))
  }

  @Test func captionGoesInsideWhenTheBoxTouchesTheTop() {
    let box = BoundingBox(x1: 10, y1: 0, x2: 100, y2: 80)
    let drawn = Annotator().draw([Annotation(box: box, caption: "A", color: Self.red)], on: Self.grey)
    #expect(Self.pixel(drawn, 11, 10) == Self.red, "caption background inside the box")
  }

  @Test func boxesOutsideOrInvalidAreClippedNotFatal() {
    let boxes = [
      BoundingBox(x1: -50, y1: -50, x2: 400, y2: 400), BoundingBox(x1: 190, y1: 110, x2: 500, y2: 500),
      BoundingBox(x1: .nan, y1: 0, x2: 10, y2: 10), BoundingBox(x1: 1e30, y1: -1e30, x2: .infinity, y2: 5),
      BoundingBox(x1: 30, y1: 30, x2: 20, y2: 20),
    ]
    let annotations = boxes.map { Annotation(box: $0, caption: "WIDE CAPTION 0.99 12.3m", color: Self.red) }
    let drawn = Annotator().draw(annotations, on: Self.grey)
    #expect(drawn.width == Self.grey.width && drawn.height == Self.grey.height)
    #expect(Self.pixel(drawn, 195, 110) == Self.red, "the clipped outline of the second box")
  }

  @Test func annotatesDetectionsWithLabelConfidenceAndDistance() {
    let person = Detection(
      label: "person", classIndex: 0, confidence: 0.914, box: BoundingBox(x1: 20, y1: 30, x2: 60, y2: 100))
    #expect(Annotator.caption(for: person, distanceMetres: 5.31) == "PERSON 0.91 5.3m")
    #expect(Annotator.caption(for: person, distanceMetres: nil) == "PERSON 0.91")
    let drawn = Annotator().annotate(Self.grey, detections: [person], distances: [5.31])
    #expect(Self.pixel(drawn, 20, 50) == Annotator.color(forClass: 0))
    #expect(drawn != Self.grey)
  }

  @Test func fontHasSevenRowsOfFiveColumns() {
    for (character, rows) in BitmapFont.glyphs {
      #expect(rows.count == BitmapFont.glyphHeight, "\(character)")
      #expect(rows.allSatisfy { $0 < 1 << BitmapFont.glyphWidth }, "\(character)")
    }
    #expect(BitmapFont.rows(for: "a") == BitmapFont.rows(for: "A"), "lower case drawn as capitals")
    #expect(BitmapFont.rows(for: "m") != BitmapFont.rows(for: "M"), "m for metres has its own glyph")
    #expect(BitmapFont.rows(for: "€") == BitmapFont.rows(for: "?"))
    #expect(BitmapFont.width(of: "AB", scale: 2) == 22)
    let cocoCharacters = Set(TypicalHeights.coco.keys.joined().uppercased())
    #expect(cocoCharacters.allSatisfy { BitmapFont.glyphs[$0] != nil })
  }
}
