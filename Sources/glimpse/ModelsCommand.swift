import ArgumentParser

/// `glimpse models`: fetch model folders from the hub, list and verify them.
struct Models: AsyncParsableCommand {
  static let configuration = CommandConfiguration(
    abstract: "Fetch, list and verify model folders.",
    subcommands: [ModelsFetch.self, ModelsList.self, ModelsVerify.self])
}
