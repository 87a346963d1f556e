import ArgumentParser
import Foundation
import Hardware
import ONNXRuntime

/// `glimpse info`: versions, execution providers, the device `auto` picks, the hardware.
struct Info: AsyncParsableCommand {
  static let configuration = CommandConfiguration(
    abstract: "Show Glimpse and ONNX Runtime versions, providers, the chosen device and hardware.")

  @OptionGroup var runtime: RuntimeOptions

  @Flag(help: "Print machine-readable JSON.")
  var json = false

  func run() async throws {
    runtime.bootstrapLogging()
    let report = try InfoReport.gather(runtime: runtime)
    if json {
      try printJSON(report)
    } else {
      print(report.text)
    }
    if report.onnxruntime.error != nil || report.device.chosen == nil { throw ExitCode.failure }
  }
}

/// Everything `glimpse info` shows, in one Codable value.
struct InfoReport: Codable {
  struct ORTSection: Codable {
    var version: String?
    var path: String?
    var providers: [String]
    var error: String?
  }

  struct DeviceSection: Codable {
    var requested: String
    var chosen: String?
    var reason: String
  }

  var glimpseVersion: String
  var onnxruntime: ORTSection
  var device: DeviceSection
  var host: HostInfo
  var gpus: [GPUInfo]
  var nvml: String
  var driverVersion: String?

  static func gather(runtime: RuntimeOptions) throws -> InfoReport {
    let request = try runtime.deviceRequest()
    let gpus = NVML.shared.map { $0.gpus() }
    var ort = ORTSection(providers: [])
    var device = DeviceSection(requested: request.description, reason: "")
    do {
      let library = try runtime.loadLibrary()
      ort = ORTSection(
        version: library.version, path: library.path, providers: try library.availableProviders())
      let choice = try DeviceSelector.choose(request, availableProviders: ort.providers, gpus: gpus)
      device = DeviceSection(
        requested: request.description, chosen: choice.device.description, reason: choice.reason)
    } catch let error as DeviceError {
      device.reason = error.description
    } catch {
      ort.error = "\(error)"
      device.reason = "ONNX Runtime is not available"
    }
    let nvml = NVML.shared
    return InfoReport(
      glimpseVersion: GlimpseVersion.current, onnxruntime: ort, device: device,
      host: HostInfo.current(), gpus: (try? gpus.get()) ?? [],
      nvml: (try? nvml.get()).map { _ in "loaded" } ?? "unavailable: \(nvml.failureReason)",
      driverVersion: try? nvml.get().driverVersion)
  }

  /// The seed's start-up lines (`Using device: cuda`, `GPU: …`, `VRAM Total: …`) and more.
  var text: String {
    var lines = ["Glimpse \(glimpseVersion)"]
    if let error = onnxruntime.error {
      lines.append("ONNX Runtime: not loaded\n\(error)")
    } else {
      lines.append("ONNX Runtime: \(onnxruntime.version ?? "?") (\(onnxruntime.path ?? "?"))")
      lines.append("Execution providers: \(onnxruntime.providers.joined(separator: ", "))")
    }
    lines.append("Using device: \(device.chosen ?? "none") (\(device.requested): \(device.reason))")
    lines.append("CPU: \(host.cpuModel), \(host.logicalCores) cores")
    lines.append(
      "Memory: \(formatGigabytes(host.memoryTotalBytes)) total, \(formatGigabytes(host.memoryAvailableBytes)) available"
    )
    if gpus.isEmpty {
      lines.append("GPU: none (\(nvml))")
    }
    for gpu in gpus {
      lines.append("GPU: \(gpu.name) (compute capability \(gpu.computeCapability))")
      lines.append("VRAM Total: \(formatGigabytes(gpu.memoryTotalBytes))")
      lines.append("VRAM Used: \(formatGigabytes(gpu.memoryUsedBytes))")
    }
    return lines.joined(separator: "\n")
  }
}

extension Result where Failure == NVMLUnavailable {
  var failureReason: String {
    if case .failure(let error) = self { return error.reason }
    return ""
  }
}
