import ArgumentParser
import Foundation
import GlimpseServer

/// `glimpse keys`: API keys for `glimpse serve --api-key-file`.
struct Keys: ParsableCommand {
  static let configuration = CommandConfiguration(
    abstract: "Make API keys for --api-key-file (docs/security.md).", subcommands: [New.self, Check.self])

  struct New: ParsableCommand {
    static let configuration = CommandConfiguration(
      abstract: "Make a random key, print it once, and add its hash to the key file.")

    @Argument(help: "A name for the key (who or what uses it), shown in logs and errors.")
    var name: String

    @Option(help: "read, write or admin.")
    var scope: String = "read"

    @Option(help: "The key file to append to (created if absent; a running server re-reads it on SIGHUP).")
    var file: String

    func run() throws {
      guard let scope = KeyScope(rawValue: scope) else {
        throw ValidationError("--scope must be read, write or admin")
      }
      guard !name.isEmpty, !name.contains(where: \.isWhitespace), !name.contains("#") else {
        throw ValidationError("a key name has no spaces and no '#'")
      }
      var random = SystemRandomNumberGenerator()
      let bytes = (0..<32).map { _ in UInt8.random(in: .min ... .max, using: &random) }
      let key =
        "glk_"
        + Data(bytes).base64EncodedString().replacingOccurrences(of: "+", with: "-")
        .replacingOccurrences(of: "/", with: "_").replacingOccurrences(of: "=", with: "")
      try append(APIKey(name: name, scope: scope, plainText: key).fileLine + "\n", to: file)
      print(key)
    }

    private func append(_ line: String, to path: String) throws {
      if !FileManager.default.fileExists(atPath: path) {
        guard
          FileManager.default.createFile(atPath: path, contents: nil, attributes: [.posixPermissions: 0o600])
        else { throw CLIError("cannot create \(path)") }
      }
      let handle = try FileHandle(forWritingTo: URL(fileURLWithPath: path))
      defer { try? handle.close() }
      try handle.seekToEnd()
      try handle.write(contentsOf: Data(line.utf8))
    }
  }

  struct Check: ParsableCommand {
    static let configuration = CommandConfiguration(abstract: "Check that a key file parses; list its keys.")

    @Argument(help: "The key file.")
    var file: String

    func run() throws {
      for key in try APIKeyFile.load(path: file) { print("\(key.name)\t\(key.scope.rawValue)") }
    }
  }
}
