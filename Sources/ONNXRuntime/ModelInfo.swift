/// Name, element type and shape of one model input or output.
public struct TensorInfo: Sendable, Equatable, CustomStringConvertible {
  public let name: String
  public let elementType: ElementType
  /// Dimensions; -1 where the model leaves a dimension free.
  public let shape: [Int]
  /// The symbolic name of each free dimension ("batch", "height"), empty where fixed.
  public let symbolicShape: [String]

  public var isDynamic: Bool { shape.contains(-1) }

  public var description: String {
    let dims = zip(shape, symbolicShape).map { dim, symbol in
      dim >= 0 ? String(dim) : (symbol.isEmpty ? "?" : symbol)
    }
    return "\(name): \(elementType)[\(dims.joined(separator: ", "))]"
  }

  /// Checks that `tensor` can be fed to this input: element type, rank, fixed dimensions.
  func validate(_ tensor: Tensor) throws {
    guard tensor.elementType == elementType else {
      throw ORTError.invalidInput(
        "input '\(name)' expects \(elementType), got \(tensor.elementType)")
    }
    guard tensor.shape.count == shape.count,
      zip(shape, tensor.shape).allSatisfy({ $0 < 0 || $0 == $1 })
    else {
      throw ORTError.invalidInput(
        "input '\(name)' expects shape \(self.description), got \(tensor.shape)")
    }
  }
}

/// A model's metadata: producer, description and the free-form `metadata_props`
/// (Ultralytics stores class names, image size and stride there).
public struct ModelMetadata: Sendable, Equatable {
  public var producerName: String
  public var graphName: String
  public var description: String
  public var version: Int64
  public var custom: [String: String]
}
