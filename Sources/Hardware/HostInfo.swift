import Foundation

/// The machine Glimpse runs on: CPU model, cores, memory.
public struct HostInfo: Codable, Sendable, Equatable {
  public var cpuModel: String
  public var logicalCores: Int
  public var memoryTotalBytes: UInt64
  public var memoryAvailableBytes: UInt64

  /// Reads `/proc/cpuinfo` and `/proc/meminfo`; fields it cannot read stay empty or zero.
  public static func current() -> HostInfo {
    let meminfo = (try? String(contentsOfFile: "/proc/meminfo", encoding: .utf8)) ?? ""
    return HostInfo(
      cpuModel: cpuModel(),
      logicalCores: ProcessInfo.processInfo.activeProcessorCount,
      memoryTotalBytes: kilobytes("MemTotal", in: meminfo) * 1024,
      memoryAvailableBytes: kilobytes("MemAvailable", in: meminfo) * 1024)
  }

  private static func cpuModel() -> String {
    guard let text = try? String(contentsOfFile: "/proc/cpuinfo", encoding: .utf8) else {
      return "unknown"
    }
    for line in text.split(separator: "\n") where line.hasPrefix("model name") {
      if let colon = line.firstIndex(of: ":") {
        return line[line.index(after: colon)...].trimmingCharacters(in: .whitespaces)
      }
    }
    return "unknown"
  }

  private static func kilobytes(_ key: String, in meminfo: String) -> UInt64 {
    for line in meminfo.split(separator: "\n") where line.hasPrefix(key + ":") {
      let digits = line.split(separator: " ").dropFirst().first ?? ""
      return UInt64(digits) ?? 0
    }
    return 0
  }
}

/// Formats a byte count the way the seed prints VRAM: "12.48 GB" (decimal gigabytes).
public func formatGigabytes(_ bytes: UInt64) -> String {
  String(format: "%.2f GB", Double(bytes) / 1e9)
}
