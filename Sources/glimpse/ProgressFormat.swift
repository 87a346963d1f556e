import Foundation

/// Text for progress lines and summaries, shared by `glimpse index` and `glimpse models fetch`.
enum ProgressFormat {
  static func seconds(_ duration: Duration) -> Double {
    duration / .seconds(1)
  }

  /// `1m05s`, or `2h03m` past an hour: the form of an ETA.
  static func clock(_ seconds: Double) -> String {
    let whole = Int(seconds.rounded())
    return whole >= 3600
      ? String(format: "%dh%02dm", whole / 3600, whole % 3600 / 60)
      : String(format: "%dm%02ds", whole / 60, whole % 60)
  }

  /// Decimal units (1 MB = 10^6 bytes), as the hub's web pages show file sizes.
  static func bytes(_ count: Int64) -> String {
    let units = ["B", "kB", "MB", "GB", "TB"]
    var value = Double(count)
    var unit = 0
    while value >= 1000 && unit < units.count - 1 {
      value /= 1000
      unit += 1
    }
    return unit == 0 ? "\(count) B" : String(format: "%.1f %@", value, units[unit])
  }
}
