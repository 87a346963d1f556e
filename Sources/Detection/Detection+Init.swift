extension Detection {
  /// A detection made elsewhere (a client's box to draw, a stored result), not by the detector.
  public init(label: String, classIndex: Int, confidence: Float, box: BoundingBox) {
    self.box = box
    self.confidence = confidence
    self.classIndex = classIndex
    self.label = label
  }
}
