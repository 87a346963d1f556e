import Foundation

/// Lists written as text, one rule for the server and the command line: comma-separated
/// (`person, car`: items trimmed, empty ones dropped), or, where a form field may carry either,
/// a JSON array of strings.
public enum ListParsing {
  public static func commaSeparated(_ text: String) -> [String] {
    text.split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces) }.filter { !$0.isEmpty }
  }

  /// A JSON array of strings when the text is one, else the comma-separated items.
  public static func jsonArrayOrCommaSeparated(_ text: String) -> [String] {
    (try? JSONDecoder().decode([String].self, from: Data(text.utf8))) ?? commaSeparated(text)
  }
}
