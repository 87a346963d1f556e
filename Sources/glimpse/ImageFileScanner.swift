import Foundation

/// An image file found under the folder being indexed.
struct ImageFile: Sendable {
  let url: URL
  /// Path relative to the indexed folder, with `/` separators: the item's id.
  let relativePath: String
}

/// Finds image files under a folder, recursively, in a stable (sorted) order.
enum ImageFileScanner {
  static let imageExtensions: Set<String> = ["jpg", "jpeg", "png", "webp"]

  struct Result {
    var files: [ImageFile]
    /// Folders that could not be read: reported, the rest is indexed.
    var unreadable: [(path: String, reason: String)]
  }

  static func scan(_ root: String) throws -> Result {
    var isDirectory: ObjCBool = false
    guard FileManager.default.fileExists(atPath: root, isDirectory: &isDirectory) else {
      throw CLIError("\(root): no such file or directory")
    }
    guard isDirectory.boolValue else { throw CLIError("\(root) is not a directory") }
    guard FileManager.default.isReadableFile(atPath: root),
      (try? FileManager.default.contentsOfDirectory(atPath: root)) != nil
    else { throw CLIError("\(root): permission denied (cannot list the directory)") }

    let rootURL = URL(fileURLWithPath: root).standardizedFileURL
    var result = Result(files: [], unreadable: [])
    walk(rootURL, prefix: "", into: &result)
    result.files.sort { $0.relativePath < $1.relativePath }
    return result
  }

  /// A hand-written walk (not `FileManager.enumerator`) so that an unreadable subfolder is
  /// reported by name instead of silently skipped.
  private static func walk(_ folder: URL, prefix: String, into result: inout Result) {
    let names: [String]
    do {
      names = try FileManager.default.contentsOfDirectory(atPath: folder.path).sorted()
    } catch {
      result.unreadable.append((prefix.isEmpty ? folder.path : prefix, "cannot list the folder"))
      return
    }
    for name in names where !name.hasPrefix(".") {
      let url = folder.appendingPathComponent(name)
      let relative = prefix.isEmpty ? name : "\(prefix)/\(name)"
      var isDirectory: ObjCBool = false
      guard FileManager.default.fileExists(atPath: url.path, isDirectory: &isDirectory) else { continue }
      if isDirectory.boolValue {
        walk(url, prefix: relative, into: &result)
      } else if imageExtensions.contains(url.pathExtension.lowercased()) {
        result.files.append(ImageFile(url: url, relativePath: relative))
      }
    }
  }
}
