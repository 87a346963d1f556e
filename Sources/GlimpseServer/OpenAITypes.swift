import Foundation

/// OpenAI's embeddings request, with the `modality` extension for images.
struct OpenAIEmbeddingsRequest: StrictDecodable {
  static let fields: Set<String> = ["model", "input", "encoding_format", "dimensions", "user", "modality"]

  enum Format: String, Decodable {
    case float, base64
  }

  enum Modality: String, Decodable {
    case text, image
  }

  var model: String
  var input: OpenAIInput
  var encodingFormat: Format?
  var dimensions: Int?
  /// OpenAI's end-user id for abuse monitoring: accepted and ignored.
  var user: String?
  var modality: Modality?

  enum CodingKeys: String, CodingKey {
    case model, input, dimensions, user, modality
    case encodingFormat = "encoding_format"
  }
}

/// `input`: one string or a list of strings. OpenAI also takes token-id arrays; CLIP's ids
/// are not OpenAI's, so those are refused by name rather than misread.
enum OpenAIInput: Decodable {
  case one(String)
  case many([String])

  init(from decoder: any Decoder) throws {
    let container = try decoder.singleValueContainer()
    if let text = try? container.decode(String.self) {
      self = .one(text)
    } else if let texts = try? container.decode([String].self) {
      self = .many(texts)
    } else {
      throw APIError.openAI(
        .badRequest, "invalid_parameter",
        "'input' must be a string or an array of strings (token-id arrays are not accepted)", param: "input")
    }
  }

  var strings: [String] {
    switch self {
    case .one(let text): [text]
    case .many(let texts): texts
    }
  }
}

struct OpenAIEmbeddingsResponse: Encodable {
  struct Item: Encodable {
    var object = "embedding"
    var index: Int
    var embedding: OpenAIEmbedding
  }

  struct Usage: Encodable {
    var promptTokens: Int
    var totalTokens: Int

    enum CodingKeys: String, CodingKey {
      case promptTokens = "prompt_tokens"
      case totalTokens = "total_tokens"
    }
  }

  var object = "list"
  var data: [Item]
  var model: String
  var usage: Usage
}

/// A vector as numbers, or as OpenAI's base64: the float32 values' little-endian bytes.
enum OpenAIEmbedding: Encodable {
  case float([Float])
  case base64(String)

  init(_ vector: [Float], format: OpenAIEmbeddingsRequest.Format) {
    switch format {
    case .float: self = .float(vector)
    case .base64: self = .base64(Self.base64(vector))
    }
  }

  static func base64(_ vector: [Float]) -> String {
    var bytes = Data(capacity: vector.count * 4)
    for value in vector {
      withUnsafeBytes(of: value.bitPattern.littleEndian) { bytes.append(contentsOf: $0) }
    }
    return bytes.base64EncodedString()
  }

  func encode(to encoder: any Encoder) throws {
    var container = encoder.singleValueContainer()
    switch self {
    case .float(let vector): try container.encode(vector)
    case .base64(let text): try container.encode(text)
    }
  }
}

struct OpenAIModel: Encodable {
  var id: String
  var object = "model"
  /// Unix seconds: when this server started (the models load then).
  var created: Int
  var ownedBy = "glimpse"

  enum CodingKeys: String, CodingKey {
    case id, object, created
    case ownedBy = "owned_by"
  }
}

struct OpenAIModelList: Encodable {
  var object = "list"
  var data: [OpenAIModel]
}

/// The error shape of a route's failures.
enum ErrorStyle: Sendable {
  /// `{"error": {"code", "message"}}`.
  case glimpse
  /// OpenAI's `{"error": {"message", "type", "code", "param"}}`, `param` null when no field is at fault.
  case openAI
}

/// OpenAI's error body. `type` follows OpenAI's classes by status; `code` is Glimpse's code.
struct OpenAIErrorBody: Encodable {
  struct Detail: Encodable {
    var message: String
    var type: String
    var code: String
    var param: String?

    func encode(to encoder: any Encoder) throws {
      var container = encoder.container(keyedBy: CodingKeys.self)
      try container.encode(message, forKey: .message)
      try container.encode(type, forKey: .type)
      try container.encode(code, forKey: .code)
      try container.encode(param, forKey: .param)  // null, as OpenAI sends it
    }

    enum CodingKeys: String, CodingKey { case message, type, code, param }
  }

  var error: Detail

  init(_ error: APIError) {
    self.error = Detail(
      message: error.message, type: Self.type(status: error.status.code), code: error.code, param: error.param
    )
  }

  static func type(status: Int) -> String {
    switch status {
    case 401: "authentication_error"
    case 403: "permission_error"
    case 429: "rate_limit_error"
    case 500...: "server_error"
    default: "invalid_request_error"
    }
  }
}
