import Foundation
import ONNXRuntime

/// What the user asked for with `--device` / `GLIMPSE_DEVICE`.
public enum DeviceRequest: Equatable, Sendable, CustomStringConvertible {
  case auto
  case cpu
  case cuda(Int)

  /// Parses `auto`, `cpu`, `cuda` or `cuda:N`.
  public init(parsing text: String) throws {
    let value = text.trimmingCharacters(in: .whitespaces).lowercased()
    switch value {
    case "auto", "": self = .auto
    case "cpu": self = .cpu
    case "cuda", "gpu": self = .cuda(0)
    default:
      guard value.hasPrefix("cuda:"), let index = Int(value.dropFirst(5)), index >= 0 else {
        throw DeviceError.invalidRequest(text)
      }
      self = .cuda(index)
    }
  }

  public var description: String {
    switch self {
    case .auto: "auto"
    case .cpu: "cpu"
    case .cuda(let index): "cuda:\(index)"
    }
  }
}

/// A device a model runs on.
public enum Device: Equatable, Sendable, CustomStringConvertible {
  case cpu
  case cuda(Int)

  public var description: String {
    switch self {
    case .cpu: "cpu"
    case .cuda(let index): "cuda:\(index)"
    }
  }

  public var isGPU: Bool { self != .cpu }
}

/// The device chosen for a request, and why: printed at start-up and by `glimpse info`.
public struct DeviceChoice: Equatable, Sendable {
  public var request: DeviceRequest
  public var device: Device
  public var reason: String

  public init(request: DeviceRequest, device: Device, reason: String) {
    self.request = request
    self.device = device
    self.reason = reason
  }
}

public enum DeviceError: Error, Equatable, CustomStringConvertible {
  case invalidRequest(String)
  case cudaUnavailable(String)

  public var description: String {
    switch self {
    case .invalidRequest(let text):
      "invalid device '\(text)': use auto, cpu, cuda or cuda:N"
    case .cudaUnavailable(let reason):
      "CUDA was requested but cannot be used: \(reason)"
    }
  }
}

/// Picks the device: `auto` prefers CUDA when ONNX Runtime has the CUDA provider and NVML
/// sees a GPU; an explicit `cuda` that cannot be honoured is an error, never a silent CPU run.
public enum DeviceSelector {
  public static let cudaProvider = "CUDAExecutionProvider"

  public static func choose(
    _ request: DeviceRequest, availableProviders: [String], gpus: Result<[GPUInfo], NVMLUnavailable>
  ) throws -> DeviceChoice {
    let hasProvider = availableProviders.contains(cudaProvider)
    let noProvider =
      "this ONNX Runtime build has no CUDA execution provider (providers: \(availableProviders.joined(separator: ", "))); install the GPU build with `scripts/setup --gpu`"
    switch request {
    case .cpu:
      return DeviceChoice(request: request, device: .cpu, reason: "requested")
    case .auto:
      guard hasProvider else {
        return DeviceChoice(request: request, device: .cpu, reason: noProvider)
      }
      switch gpus {
      case .failure(let unavailable):
        return DeviceChoice(request: request, device: .cpu, reason: "no usable GPU: \(unavailable.reason)")
      case .success(let list) where list.isEmpty:
        return DeviceChoice(request: request, device: .cpu, reason: "no NVIDIA GPU found by NVML")
      case .success(let list):
        return DeviceChoice(
          request: request, device: .cuda(0),
          reason: "CUDA execution provider available and GPU 0 is \(list[0].name)")
      }
    case .cuda(let index):
      guard hasProvider else { throw DeviceError.cudaUnavailable(noProvider) }
      if case .success(let list) = gpus, index >= list.count {
        throw DeviceError.cudaUnavailable(
          list.isEmpty ? "no NVIDIA GPU found by NVML" : "GPU \(index) does not exist (\(list.count) found)")
      }
      if case .failure(let unavailable) = gpus {
        throw DeviceError.cudaUnavailable(unavailable.reason)
      }
      return DeviceChoice(request: request, device: .cuda(index), reason: "requested")
    }
  }
}

extension SessionConfiguration {
  /// Session settings for a chosen device: the CUDA provider (with exhaustive cuDNN search
  /// and a bounded arena) on a GPU; only `--device cuda` makes its failure fatal. On a GPU
  /// the CPU thread pool sleeps instead of spinning: it only runs shape operators there.
  public static func forDevice(_ choice: DeviceChoice, threads: Int = 0) -> SessionConfiguration {
    var configuration = SessionConfiguration()
    configuration.intraOpThreads = threads
    if case .cuda(let index) = choice.device {
      configuration.providers = [.cuda(CUDAOptions(deviceID: index))]
      configuration.requireProviders = choice.request != .auto
      configuration.allowSpinning = false
    }
    return configuration
  }
}
