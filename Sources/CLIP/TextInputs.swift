import ONNXRuntime

/// The text tower's inputs as its ONNX graph declares them: the token ids (`text` in
/// open_clip exports, `input_ids` in Hugging Face ones) and, where the graph has one, an
/// `attention_mask`, which is 1 where the id is not the pad id (what open_clip's HF text
/// encoder computes inside its graph: `attention_mask = (x != pad_token_id)`).
struct TextInputs: Sendable {
  let ids: String
  let attentionMask: String?

  init(_ textual: Session) throws {
    var ids: String?
    var mask: String?
    for input in textual.inputs {
      guard input.elementType == .int64 else {
        throw CLIPError.unexpectedModel(
          "the text tower's input '\(input.name)' is \(input.elementType), expected int64 token ids")
      }
      if input.name == "attention_mask" {
        mask = input.name
      } else if ids == nil {
        ids = input.name
      } else {
        throw CLIPError.unexpectedModel(
          "the text tower has inputs '\(ids!)' and '\(input.name)'; Glimpse feeds token ids and, "
            + "optionally, attention_mask")
      }
    }
    guard let ids else { throw CLIPError.unexpectedModel("the text tower takes no token ids") }
    self.ids = ids
    self.attentionMask = mask
  }

  /// The feeds for a batch of ids.
  func feeds(ids tensor: Tensor, padID: Int) throws -> [String: Tensor] {
    guard let attentionMask else { return [ids: tensor] }
    let pad = Int64(padID)
    let mask = tensor.withElements(as: Int64.self) { ids in ids.map { $0 == pad ? Int64(0) : 1 } }
    return [ids: tensor, attentionMask: try Tensor(int64: mask, shape: tensor.shape)]
  }
}
