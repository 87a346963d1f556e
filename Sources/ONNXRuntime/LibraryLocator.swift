import Foundation

/// Where to look for `libonnxruntime.so`, in order of preference.
enum LibraryLocator {
  struct Candidate: Equatable {
    var path: String
    /// Why this path is tried, shown in the error when nothing loads.
    var origin: String
    var isExplicit: Bool = false
  }

  /// The file name `scripts/setup` unpacks from the wheel.
  static let fileName = "libonnxruntime.so.1.31.1"

  static func candidates(
    explicitPath: String?,
    environment: [String: String] = ProcessInfo.processInfo.environment,
    currentDirectory: String = FileManager.default.currentDirectoryPath,
    executablePath: String = CommandLine.arguments.first ?? ""
  ) -> [Candidate] {
    if let explicitPath, !explicitPath.isEmpty {
      return [Candidate(path: explicitPath, origin: "--ort-lib", isExplicit: true)]
    }
    if let fromEnvironment = environment["GLIMPSE_ORT_LIB"], !fromEnvironment.isEmpty {
      return [Candidate(path: fromEnvironment, origin: "GLIMPSE_ORT_LIB", isExplicit: true)]
    }
    var result: [Candidate] = []
    for folder in depsFolders(currentDirectory: currentDirectory, executablePath: executablePath) {
      let path = "\(folder)/\(fileName)"
      if !result.contains(where: { $0.path == path }) {
        result.append(Candidate(path: path, origin: "project .deps"))
      }
    }
    // Last, whatever the system loader finds (LD_LIBRARY_PATH, ldconfig).
    result.append(Candidate(path: "libonnxruntime.so.1", origin: "system loader path"))
    result.append(Candidate(path: "libonnxruntime.so", origin: "system loader path"))
    return result
  }

  /// `.deps/onnxruntime/lib` under the working directory and under every parent of the
  /// executable (so `.build/debug/glimpse` finds the checkout's copy), and `lib/` beside
  /// a bundled binary (`dist/glimpse-linux-x86_64/{bin,lib}`).
  static func depsFolders(currentDirectory: String, executablePath: String) -> [String] {
    var folders = ["\(currentDirectory)/.deps/onnxruntime/lib"]
    let executable = URL(fileURLWithPath: executablePath).resolvingSymlinksInPath()
    var directory = executable.deletingLastPathComponent()
    folders.append(directory.deletingLastPathComponent().appendingPathComponent("lib").path)
    for _ in 0..<6 {
      folders.append(directory.appendingPathComponent(".deps/onnxruntime/lib").path)
      let parent = directory.deletingLastPathComponent()
      if parent.path == directory.path { break }
      directory = parent
    }
    return folders
  }
}
