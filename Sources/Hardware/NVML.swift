import Foundation

#if canImport(Glibc)
  import Glibc
#endif

/// One NVIDIA GPU as NVML reports it.
public struct GPUInfo: Codable, Sendable, Equatable {
  public var index: Int
  public var name: String
  /// "9.0" for an H100.
  public var computeCapability: String
  public var memoryTotalBytes: UInt64
  public var memoryUsedBytes: UInt64
  public var memoryFreeBytes: UInt64
  /// Percent of time a kernel ran over the last sample period, if NVML gives it.
  public var utilizationPercent: Int?
}

/// NVIDIA's management library, opened at run time so that machines without a driver
/// run Glimpse too: a missing NVML is a reason to use the CPU, never an error.
/// `@unchecked Sendable`: the library handle and the driver version are constants; NVML's calls are thread-safe.
public final class NVML: @unchecked Sendable {
  private let handle: UnsafeMutableRawPointer
  public let driverVersion: String

  /// The process-wide NVML, or the reason it is unavailable.
  public static let shared: Result<NVML, NVMLUnavailable> = load()

  private init(handle: UnsafeMutableRawPointer, driverVersion: String) {
    self.handle = handle
    self.driverVersion = driverVersion
  }

  private static func load() -> Result<NVML, NVMLUnavailable> {
    guard let handle = dlopen("libnvidia-ml.so.1", RTLD_NOW | RTLD_LOCAL) else {
      return .failure(NVMLUnavailable(reason: "libnvidia-ml.so.1 not found (no NVIDIA driver)"))
    }
    typealias Initialize = @convention(c) () -> Int32
    guard let symbol = dlsym(handle, "nvmlInit_v2") else {
      return .failure(NVMLUnavailable(reason: "libnvidia-ml.so.1 has no nvmlInit_v2"))
    }
    let result = unsafeBitCast(symbol, to: Initialize.self)()
    guard result == 0 else {
      return .failure(NVMLUnavailable(reason: "nvmlInit failed with NVML error \(result)"))
    }
    return .success(NVML(handle: handle, driverVersion: readDriverVersion(handle: handle)))
  }

  private static func function<F>(_ handle: UnsafeMutableRawPointer, _ name: String, as type: F.Type) -> F? {
    dlsym(handle, name).map { unsafeBitCast($0, to: F.self) }
  }

  private func function<F>(_ name: String, as type: F.Type) -> F? {
    Self.function(handle, name, as: type)
  }

  private static func readDriverVersion(handle: UnsafeMutableRawPointer) -> String {
    typealias Get = @convention(c) (UnsafeMutablePointer<CChar>?, UInt32) -> Int32
    var buffer = [CChar](repeating: 0, count: 96)
    guard let get = function(handle, "nvmlSystemGetDriverVersion", as: Get.self),
      get(&buffer, 96) == 0
    else { return "" }
    return cString(buffer)
  }

  /// Every GPU with its current memory use; an empty list if NVML fails mid-way.
  public func gpus() -> [GPUInfo] {
    typealias Count = @convention(c) (UnsafeMutablePointer<UInt32>?) -> Int32
    var count: UInt32 = 0
    guard let getCount = function("nvmlDeviceGetCount_v2", as: Count.self), getCount(&count) == 0
    else { return [] }
    return (0..<Int(count)).compactMap { gpu(index: $0) }
  }

  private func gpu(index: Int) -> GPUInfo? {
    typealias ByIndex = @convention(c) (UInt32, UnsafeMutablePointer<OpaquePointer?>?) -> Int32
    typealias Name = @convention(c) (OpaquePointer?, UnsafeMutablePointer<CChar>?, UInt32) -> Int32
    typealias Memory = @convention(c) (OpaquePointer?, UnsafeMutablePointer<UInt64>?) -> Int32
    typealias Capability =
      @convention(c) (OpaquePointer?, UnsafeMutablePointer<Int32>?, UnsafeMutablePointer<Int32>?) -> Int32
    typealias Utilization = @convention(c) (OpaquePointer?, UnsafeMutablePointer<UInt32>?) -> Int32
    var device: OpaquePointer?
    guard let byIndex = function("nvmlDeviceGetHandleByIndex_v2", as: ByIndex.self),
      byIndex(UInt32(index), &device) == 0
    else { return nil }
    var name = [CChar](repeating: 0, count: 96)
    _ = function("nvmlDeviceGetName", as: Name.self)?(device, &name, 96)
    // nvmlMemory_t is { total, free, used } as unsigned long long.
    var memory = [UInt64](repeating: 0, count: 3)
    _ = function("nvmlDeviceGetMemoryInfo", as: Memory.self)?(device, &memory)
    var major: Int32 = 0
    var minor: Int32 = 0
    _ = function("nvmlDeviceGetCudaComputeCapability", as: Capability.self)?(device, &major, &minor)
    // nvmlUtilization_t is { gpu, memory } as unsigned int.
    var utilization = [UInt32](repeating: 0, count: 2)
    let utilizationStatus = function("nvmlDeviceGetUtilizationRates", as: Utilization.self)?(
      device, &utilization)
    return GPUInfo(
      index: index, name: cString(name), computeCapability: "\(major).\(minor)",
      memoryTotalBytes: memory[0], memoryUsedBytes: memory[2], memoryFreeBytes: memory[1],
      utilizationPercent: utilizationStatus == 0 ? Int(utilization[0]) : nil)
  }
}

/// Why NVML cannot be used on this machine.
public struct NVMLUnavailable: Error, Sendable, CustomStringConvertible {
  public let reason: String
  public var description: String { reason }
}

/// A Swift string from a NUL-terminated C character buffer.
private func cString(_ buffer: [CChar]) -> String {
  let bytes = buffer.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }
  return String(decoding: bytes, as: UTF8.self)
}
