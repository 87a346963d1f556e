import ArgumentParser
import CLIP
import Foundation
import GlimpseServer
import Imaging
import Logging
import Services

/// `glimpse classify`: CLIP zero-shot classification of one image against labels.
struct Classify: AsyncParsableCommand {
  static let configuration = CommandConfiguration(
    abstract: "Zero-shot classify an image against comma-separated labels.")

  @Argument(help: "The image file.")
  var image: String

  @Option(help: "Comma-separated labels, e.g. \"a dog,a cat\".")
  var labels: String

  @OptionGroup var model: CLIPModelOptions

  @Flag(help: "Print JSON.")
  var json = false

  func run() async throws {
    let names = ListParsing.commaSeparated(labels)
    guard !names.isEmpty else { throw ValidationError("--labels needs at least one label") }
    guard let data = FileManager.default.contents(atPath: image) else {
      throw CLIError("cannot read image \(image)")
    }
    let (clip, _) = try model.load(logger: model.logger("glimpse.classify"))
    let decoded: RGBImage
    do {
      decoded = try VisualSearchService.decoder(for: clip, fullSize: true).decode(data)
    } catch {
      throw CLIError("\(image): \(error)")
    }
    let result = try clip.classify(decoded, labels: names).sorted { $0.probability > $1.probability }
    if json {
      try printJSON(result.map { LabelProbability(label: $0.label, probability: $0.probability) })
    } else {
      for entry in result { print(String(format: "%6.2f%%  %@", entry.probability * 100, entry.label)) }
    }
  }
}

struct LabelProbability: Encodable {
  var label: String
  var probability: Float
}
