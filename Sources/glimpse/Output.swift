import Foundation

/// Writes a value as pretty, key-sorted JSON on standard output.
func printJSON<T: Encodable>(_ value: T) throws {
  let encoder = JSONEncoder()
  encoder.outputFormatting = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
  let data = try encoder.encode(value)
  FileHandle.standardOutput.write(data)
  FileHandle.standardOutput.write(Data("\n".utf8))
}

/// Writes a line on standard error (progress, warnings) so standard output stays data.
func printError(_ message: String) {
  FileHandle.standardError.write(Data((message + "\n").utf8))
}
