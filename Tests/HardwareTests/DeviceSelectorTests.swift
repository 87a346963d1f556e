import ONNXRuntime
import Testing

@testable import Hardware

@Suite struct DeviceSelectorTests {
  let cpuOnly = ["CPUExecutionProvider"]
  let withCUDA = ["CUDAExecutionProvider", "CPUExecutionProvider"]
  let h100 = GPUInfo(
    index: 0, name: "NVIDIA H100 80GB HBM3", computeCapability: "9.0",
    memoryTotalBytes: 85_000_000_000, memoryUsedBytes: 1, memoryFreeBytes: 2, utilizationPercent: 0)
  let noDriver: Result<[GPUInfo], NVMLUnavailable> = .failure(
    NVMLUnavailable(reason: "libnvidia-ml.so.1 not found (no NVIDIA driver)"))

  @Test func parsesDeviceRequests() throws {
    #expect(try DeviceRequest(parsing: "auto") == .auto)
    #expect(try DeviceRequest(parsing: "CPU") == .cpu)
    #expect(try DeviceRequest(parsing: "cuda") == .cuda(0))
    #expect(try DeviceRequest(parsing: "cuda:3") == .cuda(3))
    #expect(throws: DeviceError.invalidRequest("tpu")) { try DeviceRequest(parsing: "tpu") }
    #expect(throws: DeviceError.self) { try DeviceRequest(parsing: "cuda:-1") }
  }

  @Test func autoFallsBackToCPUAndSaysWhy() throws {
    let withoutProvider = try DeviceSelector.choose(
      .auto, availableProviders: cpuOnly, gpus: .success([h100]))
    #expect(withoutProvider.device == .cpu)
    #expect(withoutProvider.reason.contains("no CUDA execution provider"))
    let withoutDriver = try DeviceSelector.choose(.auto, availableProviders: withCUDA, gpus: noDriver)
    #expect(withoutDriver.device == .cpu)
    #expect(withoutDriver.reason.contains("libnvidia-ml.so.1"))
  }

  @Test func autoPicksCUDAWhenProviderAndGPUArePresent() throws {
    let choice = try DeviceSelector.choose(.auto, availableProviders: withCUDA, gpus: .success([h100]))
    #expect(choice.device == .cuda(0))
    #expect(choice.reason.contains("H100"))
    let configuration = SessionConfiguration.forDevice(choice)
    #expect(configuration.providers == [.cuda(CUDAOptions(deviceID: 0))])
    #expect(configuration.requireProviders == false)
  }

  @Test func explicitCUDAWithoutGPUIsAClearError() {
    #expect {
      try DeviceSelector.choose(.cuda(0), availableProviders: cpuOnly, gpus: noDriver)
    } throws: { error in
      "\(error)".contains("CUDA was requested but cannot be used")
        && "\(error)".contains("scripts/setup --gpu")
    }
    #expect(throws: DeviceError.self) {
      try DeviceSelector.choose(.cuda(1), availableProviders: withCUDA, gpus: .success([h100]))
    }
    #expect(throws: DeviceError.self) {
      try DeviceSelector.choose(.cuda(0), availableProviders: withCUDA, gpus: noDriver)
    }
  }

  @Test func explicitCUDARequiresTheProvider() throws {
    let choice = try DeviceSelector.choose(.cuda(0), availableProviders: withCUDA, gpus: .success([h100]))
    #expect(SessionConfiguration.forDevice(choice).requireProviders)
  }
}

@Suite struct HardwareProbeTests {
  @Test func readsHostFacts() {
    let host = HostInfo.current()
    #expect(host.logicalCores >= 1)
    #expect(host.memoryTotalBytes > 100_000_000)
    #expect(host.memoryAvailableBytes <= host.memoryTotalBytes)
    #expect(!host.cpuModel.isEmpty)
  }

  @Test func missingNVMLIsNotAnError() {
    // On a machine without the NVIDIA driver NVML reports why; with one it lists GPUs.
    switch NVML.shared {
    case .failure(let unavailable): #expect(!unavailable.reason.isEmpty)
    case .success(let nvml): #expect(nvml.gpus().allSatisfy { $0.memoryTotalBytes > 0 })
    }
  }

  @Test func formatsVRAMLikeTheSeed() {
    #expect(formatGigabytes(12_480_000_000) == "12.48 GB")
  }
}
