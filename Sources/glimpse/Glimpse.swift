import ArgumentParser

/// The `glimpse` command line: one subcommand per capability.
@main
struct Glimpse: AsyncParsableCommand {
  static let configuration = CommandConfiguration(
    commandName: "glimpse",
    abstract: "Visual search and object detection server: CLIP embeddings, catalog search, YOLO.",
    version: GlimpseVersion.current,
    subcommands: [
      Info.self, Embed.self, Classify.self, Index.self, Search.self, Items.self, Detect.self, Bench.self,
      BenchSearch.self, BenchDetect.self, Models.self, Serve.self, Keys.self, Backup.self, Migrate.self,
      GPUCheck.self,
    ]
  )
}

enum GlimpseVersion {
  static let current = "0.1.0"
}
