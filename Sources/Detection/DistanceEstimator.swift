import Foundation

/// Distance to a detected object from its box height with a pinhole camera:
/// `distance = realHeight × focalPx / boxHeightPx`.
///
/// Good for: a rough range (is the person ~3 m or ~15 m away?) for AR overlays, from one
/// uncalibrated image. Not good for: anything that needs metres right to better than about
/// ±30 %. Real heights vary (a child is not 1.7 m), the box may cover only part of the object
/// (occlusion, a seated person), the camera's field of view is usually guessed, and lens
/// distortion and camera tilt are ignored. See docs/detection.md.
public struct DistanceEstimator: Sendable {
  /// Vertical field of view assumed when the focal length is not given: 60° is in the middle
  /// of phone main cameras in portrait/landscape video (≈ 50–70° vertically).
  public static let defaultVerticalFieldOfView: Double = 60
  /// Estimates are clamped to this range: nearer, the object fills the frame and the box is
  /// cut; farther, a few pixels of box error change the answer by metres.
  public static let range: ClosedRange<Double> = 0.5...30

  public enum Focal: Sendable, Equatable {
    /// Focal length in pixels of the image being measured.
    case pixels(Double)
    /// Vertical field of view in degrees: `focal = (imageHeight / 2) / tan(fov / 2)`.
    case verticalFieldOfView(Double)
  }

  public var focal: Focal
  /// Typical real heights in metres by class name; classes absent here get no estimate.
  public var heights: [String: Double]

  public init(
    focal: Focal = .verticalFieldOfView(defaultVerticalFieldOfView),
    heights: [String: Double] = TypicalHeights.coco
  ) {
    self.focal = focal
    self.heights = heights
  }

  /// The focal length in pixels for an image `imageHeight` pixels tall.
  public func focalPixels(imageHeight: Int) -> Double {
    switch focal {
    case .pixels(let value): return value
    case .verticalFieldOfView(let degrees):
      return Double(imageHeight) / 2 / tan(degrees * .pi / 180 / 2)
    }
  }

  /// Metres to the object, or nil when its class has no known height or the box touches the
  /// top or bottom edge (within a pixel): the object is then cut and its full height unknown.
  public func distance(to detection: Detection, imageHeight: Int) -> Double? {
    guard let realHeight = heights[detection.label] else { return nil }
    let box = detection.box
    guard box.y1 > 1, box.y2 < Float(imageHeight - 1), box.height > 0 else { return nil }
    let metres = realHeight * focalPixels(imageHeight: imageHeight) / Double(box.height)
    return min(max(metres, Self.range.lowerBound), Self.range.upperBound)
  }
}

/// Typical heights (metres, top to bottom as a detector boxes them) of the COCO classes whose
/// size varies little enough to be useful. Sources and spread:
/// - person 1.7: adult stature, world average ≈ 1.71 m men / 1.59 m women (NCD-RisC, eLife
///   2016); ±10 % for adults, children and seated people far off.
/// - bicycle 1.0, motorcycle 1.2: wheel 0.66–0.7 m plus frame/handlebars (manufacturer
///   geometry tables); ±15 %.
/// - car 1.5: passenger cars 1.40–1.70 m (EU/US spec sheets; SUVs up to 1.8); ±15 %.
/// - bus 3.1: city buses 3.0–3.2 m (e.g. 12 m low-floor buses); coaches 3.5–4.
/// - truck 3.0: box trucks 2.5–3.5 m, tractors ~3.8, pickups ~1.9: ±30 %, a rough guess.
/// - train 3.9: rolling stock 3.7–4.3 m (gauge limits), without pantograph.
/// - traffic light 0.9: 3-aspect signal head with 200–300 mm lenses (MUTCD / EN 12368).
/// - fire hydrant 0.75, stop sign 0.75 (US 30 in octagon, MUTCD R1-1; the sign only),
///   parking meter 1.3 (head and post), bench 0.85 (backrest).
/// - horse 1.6 (withers ~1.5–1.7 + head), cow 1.4, sheep 0.9, zebra 1.4, elephant 3.0
///   (African bush elephant shoulder 2.5–3.3), giraffe 5.0 (4.3–5.7), bear 1.0 (on all fours),
///   dog 0.55 (±50 %, breeds vary most), cat 0.3, bird 0.25 (pigeon-sized; ±80 %).
/// - suitcase 0.65, backpack 0.5, handbag 0.3, umbrella 1.0 (open, held).
/// - chair 0.9, couch 0.85, dining table 0.75, toilet 0.75, refrigerator 1.75, oven 0.9,
///   microwave 0.3, sink 0.9 (with vanity); furniture standards (EN 1729, ANSI/BIFMA), ±15 %.
/// - bottle 0.25, wine glass 0.2, cup 0.1, laptop 0.24 (open lid), cell phone 0.15,
///   book 0.23, clock 0.3, tv 0.6 (a 50" screen is 0.62 m; ±40 %).
/// Classes left out (airplane, boat, kite, potted plant, food, …) span too wide a range.
public enum TypicalHeights {
  public static let coco: [String: Double] = [
    "person": 1.7, "bicycle": 1.0, "car": 1.5, "motorcycle": 1.2, "bus": 3.1, "train": 3.9,
    "truck": 3.0, "traffic light": 0.9, "fire hydrant": 0.75, "stop sign": 0.75,
    "parking meter": 1.3, "bench": 0.85, "bird": 0.25, "cat": 0.3, "dog": 0.55, "horse": 1.6,
    "sheep": 0.9, "cow": 1.4, "elephant": 3.0, "bear": 1.0, "zebra": 1.4, "giraffe": 5.0,
    "backpack": 0.5, "umbrella": 1.0, "handbag": 0.3, "suitcase": 0.65, "bottle": 0.25,
    "wine glass": 0.2, "cup": 0.1, "chair": 0.9, "couch": 0.85, "dining table": 0.75,
    "toilet": 0.75, "tv": 0.6, "laptop": 0.24, "cell phone": 0.15, "microwave": 0.3, "oven": 0.9,
    "sink": 0.9, "refrigerator": 1.75, "book": 0.23, "clock": 0.3,
  ]
}
