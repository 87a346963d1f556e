import ArgumentParser
import CLIP
import Foundation

/// `glimpse models list`: the model folders installed, or (`--known`) the names
/// `glimpse models fetch` can download.
struct ModelsList: ParsableCommand {
  static let configuration = CommandConfiguration(
    commandName: "list",
    abstract: "List installed model folders (family, embedding size, languages, disk size), or --known names."
  )

  @Option(help: "Folder to look in.")
  var destination = "models"

  @Flag(help: "List the Immich repository names `glimpse models fetch` knows instead.")
  var known = false

  @Flag(help: "Print JSON.")
  var json = false

  func run() throws {
    if known {
      try json ? printJSON(KnownModel.all) : printTable(KnownModel.all.map(Self.row))
    } else {
      let installed = InstalledModel.all(in: URL(fileURLWithPath: destination))
      try json ? printJSON(installed) : printTable(installed.map(Self.row))
      if !json && installed.isEmpty { printError("no model folders under \(destination)") }
    }
  }

  static func row(_ model: KnownModel) -> [String] {
    [model.name, model.family.rawValue, "\(model.embeddingSize)", model.languages]
  }

  static func row(_ model: InstalledModel) -> [String] {
    [
      model.name, model.family?.rawValue ?? model.kind, model.embeddingSize.map(String.init) ?? "-",
      model.languages ?? "-", ProgressFormat.bytes(model.bytes),
    ]
  }

  /// Columns padded to their widest cell; the last one is not padded.
  private func printTable(_ rows: [[String]]) {
    guard let columns = rows.first?.count else { return }
    let widths = (0..<columns).map { column in rows.map { $0[column].count }.max() ?? 0 }
    for row in rows {
      let cells = row.enumerated().map { index, cell in
        index == columns - 1 ? cell : cell.padding(toLength: widths[index] + 2, withPad: " ", startingAt: 0)
      }
      print(cells.joined())
    }
  }
}

/// A model folder on disk: a CLIP-style folder (`config.json`, Immich layout) or a YOLO
/// detector folder (`model.onnx`).
struct InstalledModel: Encodable {
  var name: String
  var kind: String
  var family: ModelFamily?
  var embeddingSize: Int?
  var languages: String?
  var bytes: Int64

  /// Looks one level into folders that are neither, so `models/test/yolo-tiny` is listed as
  /// `test/yolo-tiny`.
  static func all(in root: URL, depth: Int = 2, prefix: String = "") -> [InstalledModel] {
    let manager = FileManager.default
    let names = (try? manager.contentsOfDirectory(atPath: root.path)) ?? []
    return names.sorted().flatMap { name -> [InstalledModel] in
      let folder = root.appendingPathComponent(name)
      if let model = InstalledModel(folder: folder, name: prefix + name) { return [model] }
      guard depth > 1 else { return [] }
      return all(in: folder, depth: depth - 1, prefix: prefix + name + "/")
    }
  }

  init?(folder: URL, name: String) {
    let manager = FileManager.default
    self.name = name
    bytes = Self.diskSize(folder)
    if let data = manager.contents(atPath: folder.appendingPathComponent("config.json").path) {
      let config = (try? JSONSerialization.jsonObject(with: data)) as? [String: Any] ?? [:]
      let family = ModelFamily(config: config)
      let known = KnownModel.named((name as NSString).lastPathComponent)
      kind = "clip"
      self.family = family
      embeddingSize = config["embed_dim"] as? Int ?? known?.embeddingSize
      languages = known?.languages ?? family.defaultLanguages
    } else if manager.fileExists(atPath: folder.appendingPathComponent("model.onnx").path) {
      kind = "detector"
    } else {
      return nil
    }
  }

  /// Bytes of every regular file below `folder`.
  static func diskSize(_ folder: URL) -> Int64 {
    let keys: [URLResourceKey] = [.fileSizeKey, .isRegularFileKey]
    let files = FileManager.default.enumerator(at: folder, includingPropertiesForKeys: keys)
    var total: Int64 = 0
    while let file = files?.nextObject() as? URL {
      let values = try? file.resourceValues(forKeys: Set(keys))
      if values?.isRegularFile == true { total += Int64(values?.fileSize ?? 0) }
    }
    return total
  }
}
