import Foundation

/// NVIDIA's JPEG decoder (nvJPEG, CUDA 13), opened at run time like NVML: the functions
/// Glimpse calls are resolved once into a table, and a machine without the library decodes
/// on the CPU. NOT YET VERIFIED ON A GPU: written against the documented C API
/// (nvjpegCreateSimple, nvjpegJpegStateCreate, nvjpegGetImageInfo, nvjpegDecode to
/// NVJPEG_OUTPUT_RGBI); bench/gpu_session.sh checks it against the CPU decoder first thing.
/// `@unchecked Sendable`: the handle and the table are constants, and nvJPEG's handle is
/// thread-safe; each decode makes its own JPEG state.
public final class NVJPEG: @unchecked Sendable {
  /// The names tried, CUDA 13's first (the nvidia-nvjpeg pip package and the CUDA toolkit).
  public static let libraryNames = ["libnvjpeg.so.13", "libnvjpeg.so"]
  public static let cudaRuntimeNames = ["libcudart.so.13", "libcudart.so"]

  /// The process-wide decoder, or why it cannot be used.
  public static let shared: Result<NVJPEG, LibraryUnavailable> = load(
    nvjpeg: libraryNames, cudaRuntime: cudaRuntimeNames)

  public let library: DynamicLibrary
  private let functions: Functions
  private let handle: OpaquePointer

  private init(library: DynamicLibrary, functions: Functions, handle: OpaquePointer) {
    self.library = library
    self.functions = functions
    self.handle = handle
  }

  /// Opens nvJPEG and the CUDA runtime from `nvjpeg` and `cudaRuntime` (names tried in order)
  /// and creates the library handle.
  public static func load(nvjpeg: [String], cudaRuntime: [String]) -> Result<NVJPEG, LibraryUnavailable> {
    let opened = DynamicLibrary.open(nvjpeg).flatMap { nvjpeg in
      DynamicLibrary.open(cudaRuntime).map { (nvjpeg, $0) }
    }
    return opened.flatMap { nvjpeg, cuda in
      guard let functions = Functions(nvjpeg: nvjpeg, cuda: cuda) else {
        return .failure(LibraryUnavailable(library: nvjpeg.name, reason: "a documented function is missing"))
      }
      var handle: OpaquePointer?
      let status = functions.createSimple(&handle)
      guard status == 0, let handle else {
        return .failure(
          LibraryUnavailable(library: nvjpeg.name, reason: "nvjpegCreateSimple failed with \(status)"))
      }
      return .success(NVJPEG(library: nvjpeg, functions: functions, handle: handle))
    }
  }

  /// The JPEG's width, height and component count, from nvJPEG's header parser.
  public func imageInfo(_ bytes: UnsafeRawBufferPointer) throws -> (width: Int, height: Int, components: Int)
  {
    var components: Int32 = 0
    var subsampling: Int32 = 0
    var widths = [Int32](repeating: 0, count: 4)
    var heights = [Int32](repeating: 0, count: 4)
    try check(
      functions.getImageInfo(
        handle, bytes.baseAddress?.assumingMemoryBound(to: UInt8.self), bytes.count, &components,
        &subsampling,
        &widths, &heights), "nvjpegGetImageInfo")
    return (Int(widths[0]), Int(heights[0]), Int(components))
  }

  /// Decodes a baseline JPEG into interleaved RGB (`NVJPEG_OUTPUT_RGBI`) on the GPU and
  /// copies it back: width, height and width × height × 3 bytes.
  public func decodeRGB(_ bytes: UnsafeRawBufferPointer) throws -> (width: Int, height: Int, pixels: [UInt8])
  {
    let (width, height, _) = try imageInfo(bytes)
    var state: OpaquePointer?
    try check(functions.jpegStateCreate(handle, &state), "nvjpegJpegStateCreate")
    defer { _ = functions.jpegStateDestroy(state) }
    let byteCount = width * height * 3
    var device: UnsafeMutableRawPointer?
    try check(functions.cudaMalloc(&device, byteCount), "cudaMalloc")
    defer { _ = functions.cudaFree(device) }
    // nvjpegImage_t: four channel pointers, then four pitches; RGBI uses channel 0 only.
    var image = NVJPEGImage()
    image.channel.0 = device
    image.pitch.0 = width * 3
    try check(
      functions.decode(
        handle, state, bytes.baseAddress?.assumingMemoryBound(to: UInt8.self), bytes.count,
        Self.outputRGBI, &image, nil), "nvjpegDecode")
    var pixels = [UInt8](repeating: 0, count: byteCount)
    // cudaMemcpy on the default stream waits for the decode queued there.
    try pixels.withUnsafeMutableBytes { target in
      try check(functions.cudaMemcpy(target.baseAddress, device, byteCount, Self.deviceToHost), "cudaMemcpy")
    }
    return (width, height, pixels)
  }

  private func check(_ status: Int32, _ call: String) throws {
    guard status == 0 else { throw NVJPEGError(call: call, status: status) }
  }

  /// `NVJPEG_OUTPUT_RGBI` in `nvjpegOutputFormat_t`.
  static let outputRGBI: Int32 = 5
  /// `cudaMemcpyDeviceToHost` in `cudaMemcpyKind`.
  static let deviceToHost: Int32 = 2
}

/// `nvjpegImage_t`.
struct NVJPEGImage {
  var channel:
    (UnsafeMutableRawPointer?, UnsafeMutableRawPointer?, UnsafeMutableRawPointer?, UnsafeMutableRawPointer?) =
      (nil, nil, nil, nil)
  var pitch: (Int, Int, Int, Int) = (0, 0, 0, 0)
}

/// The nvJPEG and CUDA runtime functions Glimpse calls, resolved with dlsym.
private struct Functions {
  typealias Handle = OpaquePointer?
  typealias Bytes = UnsafePointer<UInt8>?
  typealias Create = @convention(c) (UnsafeMutablePointer<OpaquePointer?>?) -> Int32
  typealias CreateState = @convention(c) (Handle, UnsafeMutablePointer<OpaquePointer?>?) -> Int32
  typealias Destroy = @convention(c) (Handle) -> Int32
  typealias Int32Out = UnsafeMutablePointer<Int32>?
  typealias ImageInfo = @convention(c) (Handle, Bytes, Int, Int32Out, Int32Out, Int32Out, Int32Out) -> Int32
  typealias Decode =
    @convention(c) (Handle, Handle, Bytes, Int, Int32, UnsafeMutableRawPointer?, UnsafeMutableRawPointer?) ->
    Int32
  typealias Malloc = @convention(c) (UnsafeMutablePointer<UnsafeMutableRawPointer?>?, Int) -> Int32
  typealias Free = @convention(c) (UnsafeMutableRawPointer?) -> Int32
  typealias Memcpy = @convention(c) (UnsafeMutableRawPointer?, UnsafeRawPointer?, Int, Int32) -> Int32

  let createSimple: Create
  let jpegStateCreate: CreateState
  let jpegStateDestroy: Destroy
  let getImageInfo: ImageInfo
  let decode: Decode
  let cudaMalloc: Malloc
  let cudaFree: Free
  let cudaMemcpy: Memcpy

  init?(nvjpeg: DynamicLibrary, cuda: DynamicLibrary) {
    guard let createSimple = nvjpeg.function("nvjpegCreateSimple", as: Create.self),
      let jpegStateCreate = nvjpeg.function("nvjpegJpegStateCreate", as: CreateState.self),
      let jpegStateDestroy = nvjpeg.function("nvjpegJpegStateDestroy", as: Destroy.self),
      let getImageInfo = nvjpeg.function("nvjpegGetImageInfo", as: ImageInfo.self),
      let decode = nvjpeg.function("nvjpegDecode", as: Decode.self),
      let cudaMalloc = cuda.function("cudaMalloc", as: Malloc.self),
      let cudaFree = cuda.function("cudaFree", as: Free.self),
      let cudaMemcpy = cuda.function("cudaMemcpy", as: Memcpy.self)
    else { return nil }
    (self.createSimple, self.jpegStateCreate, self.jpegStateDestroy) = (
      createSimple, jpegStateCreate, jpegStateDestroy
    )
    (self.getImageInfo, self.decode) = (getImageInfo, decode)
    (self.cudaMalloc, self.cudaFree, self.cudaMemcpy) = (cudaMalloc, cudaFree, cudaMemcpy)
  }
}

/// An nvJPEG or CUDA call that failed, with its status code.
public struct NVJPEGError: Error, Sendable, CustomStringConvertible {
  public let call: String
  public let status: Int32
  public var description: String { "\(call) failed with status \(status)" }
}
