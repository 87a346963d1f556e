import ArgumentParser
import Foundation

#if canImport(FoundationNetworking)
  import FoundationNetworking
#endif

/// `glimpse models`: fetch real weights from the Immich Hugging Face repositories.
struct Models: AsyncParsableCommand {
  static let configuration = CommandConfiguration(
    abstract: "Fetch, list and verify model folders.",
    subcommands: [Fetch.self, List.self, ModelsVerify.self])

  struct Fetch: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
      abstract: "Download a CLIP model folder from huggingface.co/immich-app (needs the internet).")

    @Argument(help: "Repository name, e.g. ViT-B-32__openai or ViT-L-14__openai.")
    var name: String

    @Option(help: "Folder that receives models/<name>.")
    var destination = "models"

    @Option(help: "Hub address (a mirror, for machines behind a proxy).")
    var hub = "https://huggingface.co/immich-app"

    /// The files of Immich's layout that Glimpse reads.
    static let files = [
      "config.json", "visual/model.onnx", "visual/preprocess_cfg.json", "textual/model.onnx",
      "textual/tokenizer.json",
    ]

    func run() async throws {
      let folder = URL(fileURLWithPath: destination).appendingPathComponent(name)
      for file in Self.files {
        let target = folder.appendingPathComponent(file)
        if FileManager.default.fileExists(atPath: target.path) {
          print("\(file): present")
          continue
        }
        guard let source = URL(string: "\(hub)/\(name)/resolve/main/\(file)") else {
          throw CLIError("bad model name \(name)")
        }
        print("\(file): downloading \(source)")
        try await download(source, to: target)
      }
      print("done: use --model \(folder.path)")
    }

    /// Downloads to a temporary file beside the target, then renames: an interrupted download
    /// never leaves a truncated model behind.
    private func download(_ source: URL, to target: URL) async throws {
      try FileManager.default.createDirectory(
        at: target.deletingLastPathComponent(), withIntermediateDirectories: true)
      let (temporary, response): (URL, URLResponse)
      do {
        (temporary, response) = try await URLSession.shared.download(from: source)
      } catch {
        throw CLIError(
          "cannot download \(source): \(error.localizedDescription). Without internet access, copy an Immich model folder here by hand, or use the demo model in models/test/clip-tiny."
        )
      }
      if let status = (response as? HTTPURLResponse)?.statusCode, status != 200 {
        throw CLIError("\(source) answered HTTP \(status): is \(name) an immich-app repository?")
      }
      let partial = target.appendingPathExtension("partial")
      try? FileManager.default.removeItem(at: partial)
      try FileManager.default.moveItem(at: temporary, to: partial)
      _ = try FileManager.default.replaceItemAt(target, withItemAt: partial)
    }
  }

  struct List: ParsableCommand {
    static let configuration = CommandConfiguration(
      abstract: "List model folders under models/: CLIP models and YOLO detectors.")

    @Option(help: "Folder to look in.")
    var destination = "models"

    func run() throws {
      for (name, kind) in Self.modelFolders(in: URL(fileURLWithPath: destination), depth: 2) {
        print("\(name)\t\(kind)")
      }
    }

    /// CLIP folders (`config.json`) and YOLO detector folders (`model.onnx`), looking one level
    /// into folders that are neither (so `models/test/yolo-tiny` is listed as `test/yolo-tiny`).
    static func modelFolders(in root: URL, depth: Int, prefix: String = "") -> [(String, String)] {
      let manager = FileManager.default
      let names = (try? manager.contentsOfDirectory(atPath: root.path)) ?? []
      return names.sorted().flatMap { name -> [(String, String)] in
        let folder = root.appendingPathComponent(name)
        if manager.fileExists(atPath: folder.appendingPathComponent("config.json").path) {
          return [(prefix + name, "CLIP")]
        }
        if manager.fileExists(atPath: folder.appendingPathComponent("model.onnx").path) {
          return [(prefix + name, "detector")]
        }
        guard depth > 1 else { return [] }
        return modelFolders(in: folder, depth: depth - 1, prefix: prefix + name + "/")
      }
    }
  }
}
