// The entries of ONNX Runtime's `OrtApi` function table that Glimpse calls.
//
// The table is a C struct of function pointers; ORT only ever appends to it, so an entry's
// position (its slot) is stable across releases. Slots and signatures are taken from the
// public header include/onnxruntime/core/session/onnxruntime_c_api.h of
// microsoft/onnxruntime at v1.31.1 (ORT_API_VERSION 31). Types: every ORT object is an
// `OpaquePointer`, `OrtStatus*` is `OpaquePointer?` (nil means success), enums are `Int32`,
// `size_t` is `Int`.

typealias Status = OpaquePointer?
typealias Handle = OpaquePointer?
typealias CString = UnsafePointer<CChar>?
typealias CStringArray = UnsafePointer<UnsafePointer<CChar>?>?
typealias OutHandle = UnsafeMutablePointer<OpaquePointer?>?
typealias OutString = UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>?

/// Positions in `struct OrtApi`, checked against the `static_assert(offsetof(OrtApi, …))`
/// anchors in onnxruntime/core/session/onnxruntime_c_api.cc (e.g. ReleaseCustomOpDomain 101,
/// AddFreeDimensionOverrideByName 124, SynchronizeBoundOutputs 203, GetBuildInfoString 254).
enum APISlot: Int {
  case getErrorCode = 1  // GetErrorCode
  case getErrorMessage = 2  // GetErrorMessage
  case createEnvWithCustomLogger = 4  // CreateEnvWithCustomLogger
  case createSession = 7  // CreateSession
  case run = 9  // Run
  case createSessionOptions = 10  // CreateSessionOptions
  case setOptimizedModelFilePath = 11  // SetOptimizedModelFilePath
  case disableCpuMemArena = 19  // DisableCpuMemArena
  case setSessionGraphOptimizationLevel = 23  // SetSessionGraphOptimizationLevel
  case setIntraOpNumThreads = 24  // SetIntraOpNumThreads
  case setInterOpNumThreads = 25  // SetInterOpNumThreads
  case sessionGetInputCount = 30  // SessionGetInputCount
  case sessionGetOutputCount = 31  // SessionGetOutputCount
  case sessionGetInputTypeInfo = 33  // SessionGetInputTypeInfo
  case sessionGetOutputTypeInfo = 34  // SessionGetOutputTypeInfo
  case sessionGetInputName = 36  // SessionGetInputName
  case sessionGetOutputName = 37  // SessionGetOutputName
  case createTensorWithDataAsOrtValue = 49  // CreateTensorWithDataAsOrtValue
  case getTensorMutableData = 51  // GetTensorMutableData
  case castTypeInfoToTensorInfo = 55  // CastTypeInfoToTensorInfo
  case getTensorElementType = 60  // GetTensorElementType
  case getDimensionsCount = 61  // GetDimensionsCount
  case getDimensions = 62  // GetDimensions
  case getSymbolicDimensions = 63  // GetSymbolicDimensions
  case getTensorTypeAndShape = 65  // GetTensorTypeAndShape
  case createCpuMemoryInfo = 69  // CreateCpuMemoryInfo
  case allocatorFree = 76  // AllocatorFree
  case getAllocatorWithDefaultOptions = 78  // GetAllocatorWithDefaultOptions
  case releaseStatus = 93  // ReleaseStatus
  case releaseMemoryInfo = 94  // ReleaseMemoryInfo
  case releaseSession = 95  // ReleaseSession
  case releaseValue = 96  // ReleaseValue
  case releaseTypeInfo = 98  // ReleaseTypeInfo
  case releaseTensorTypeAndShapeInfo = 99  // ReleaseTensorTypeAndShapeInfo
  case releaseSessionOptions = 100  // ReleaseSessionOptions
  case sessionGetModelMetadata = 111  // SessionGetModelMetadata
  case modelMetadataGetProducerName = 112  // ModelMetadataGetProducerName
  case modelMetadataGetGraphName = 113  // ModelMetadataGetGraphName
  case modelMetadataGetDescription = 115  // ModelMetadataGetDescription
  case modelMetadataLookupCustomMetadataMap = 116  // ModelMetadataLookupCustomMetadataMap
  case modelMetadataGetVersion = 117  // ModelMetadataGetVersion
  case releaseModelMetadata = 118  // ReleaseModelMetadata
  case modelMetadataGetCustomMetadataMapKeys = 123  // ModelMetadataGetCustomMetadataMapKeys
  case addFreeDimensionOverrideByName = 124  // AddFreeDimensionOverrideByName
  case getAvailableProviders = 125  // GetAvailableProviders
  case releaseAvailableProviders = 126  // ReleaseAvailableProviders
  case addSessionConfigEntry = 130  // AddSessionConfigEntry
  case runWithBinding = 133  // RunWithBinding
  case createIoBinding = 134  // CreateIoBinding
  case releaseIoBinding = 135  // ReleaseIoBinding
  case bindInput = 136  // BindInput
  case bindOutputToDevice = 138  // BindOutputToDevice
  case getBoundOutputValues = 140  // GetBoundOutputValues
  // SessionOptionsAppendExecutionProvider_TensorRT_V2
  case sessionOptionsAppendExecutionProviderTensorRTV2 = 170
  case createTensorRTProviderOptions = 171  // CreateTensorRTProviderOptions
  case updateTensorRTProviderOptions = 172  // UpdateTensorRTProviderOptions
  case releaseTensorRTProviderOptions = 174  // ReleaseTensorRTProviderOptions
  // SessionOptionsAppendExecutionProvider_CUDA_V2
  case sessionOptionsAppendExecutionProviderCUDAV2 = 204
  case createCUDAProviderOptions = 205  // CreateCUDAProviderOptions
  case updateCUDAProviderOptions = 206  // UpdateCUDAProviderOptions
  case releaseCUDAProviderOptions = 208  // ReleaseCUDAProviderOptions
  case getBuildInfoString = 254  // GetBuildInfoString
}

extension ORTLibrary {
  /// The function pointer at `slot`, typed as `F` (a `@convention(c)` function type).
  @inline(__always)
  func function<F>(_ slot: APISlot, as type: F.Type = F.self) -> F {
    guard let entry = table[slot.rawValue] else {
      preconditionFailure("ONNX Runtime API table has no entry at slot \(slot)")
    }
    return unsafeBitCast(entry, to: F.self)
  }

  /// Turns an `OrtStatus*` into a Swift error (releasing the status), or returns on success.
  func check(_ status: Status) throws {
    guard let status else { return }
    let code = function(.getErrorCode, as: (@convention(c) (Handle) -> Int32).self)(status)
    let message = function(.getErrorMessage, as: (@convention(c) (Handle) -> CString).self)(status)
    let text = message.map { String(cString: $0) } ?? "unknown error"
    function(.releaseStatus, as: (@convention(c) (Handle) -> Void).self)(status)
    throw ORTError.runtime(code: ORTErrorCode(rawValue: code) ?? .unknown, message: text)
  }

  // MARK: Environment and providers

  var createEnvWithCustomLogger:
    @convention(c) (
      @convention(c) (
        UnsafeMutableRawPointer?, Int32, CString, CString, CString, CString
      ) -> Void,
      UnsafeMutableRawPointer?, Int32, CString, OutHandle
    ) -> Status
  { function(.createEnvWithCustomLogger) }
  var getAvailableProviders:
    @convention(c) (
      UnsafeMutablePointer<UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>?>?, UnsafeMutablePointer<Int32>?
    ) -> Status
  { function(.getAvailableProviders) }
  var releaseAvailableProviders:
    @convention(c) (UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>?, Int32) -> Status
  { function(.releaseAvailableProviders) }
  var getBuildInfoString: @convention(c) () -> CString { function(.getBuildInfoString) }

  // MARK: Session options

  var createSessionOptions: @convention(c) (OutHandle) -> Status { function(.createSessionOptions) }
  var releaseSessionOptions: @convention(c) (Handle) -> Void { function(.releaseSessionOptions) }
  var setIntraOpNumThreads: @convention(c) (Handle, Int32) -> Status { function(.setIntraOpNumThreads) }
  var setInterOpNumThreads: @convention(c) (Handle, Int32) -> Status { function(.setInterOpNumThreads) }
  var setSessionGraphOptimizationLevel: @convention(c) (Handle, Int32) -> Status {
    function(.setSessionGraphOptimizationLevel)
  }
  var disableCpuMemArena: @convention(c) (Handle) -> Status { function(.disableCpuMemArena) }
  var setOptimizedModelFilePath: @convention(c) (Handle, CString) -> Status {
    function(.setOptimizedModelFilePath)
  }
  var addFreeDimensionOverrideByName: @convention(c) (Handle, CString, Int64) -> Status {
    function(.addFreeDimensionOverrideByName)
  }
  var addSessionConfigEntry: @convention(c) (Handle, CString, CString) -> Status {
    function(.addSessionConfigEntry)
  }
  var createCUDAProviderOptions: @convention(c) (OutHandle) -> Status { function(.createCUDAProviderOptions) }
  var updateCUDAProviderOptions: @convention(c) (Handle, CStringArray, CStringArray, Int) -> Status {
    function(.updateCUDAProviderOptions)
  }
  var releaseCUDAProviderOptions: @convention(c) (Handle) -> Void { function(.releaseCUDAProviderOptions) }
  var sessionOptionsAppendExecutionProviderCUDAV2: @convention(c) (Handle, Handle) -> Status {
    function(.sessionOptionsAppendExecutionProviderCUDAV2)
  }
  var createTensorRTProviderOptions: @convention(c) (OutHandle) -> Status {
    function(.createTensorRTProviderOptions)
  }
  var updateTensorRTProviderOptions: @convention(c) (Handle, CStringArray, CStringArray, Int) -> Status {
    function(.updateTensorRTProviderOptions)
  }
  var releaseTensorRTProviderOptions: @convention(c) (Handle) -> Void {
    function(.releaseTensorRTProviderOptions)
  }
  var sessionOptionsAppendExecutionProviderTensorRTV2: @convention(c) (Handle, Handle) -> Status {
    function(.sessionOptionsAppendExecutionProviderTensorRTV2)
  }

  // MARK: Sessions

  var createSession: @convention(c) (Handle, CString, Handle, OutHandle) -> Status {
    function(.createSession)
  }
  var releaseSession: @convention(c) (Handle) -> Void { function(.releaseSession) }
  var run:
    @convention(c) (
      Handle, Handle, CStringArray, UnsafePointer<OpaquePointer?>?, Int, CStringArray, Int,
      UnsafeMutablePointer<OpaquePointer?>?
    ) -> Status
  { function(.run) }
  var sessionGetInputCount: @convention(c) (Handle, UnsafeMutablePointer<Int>?) -> Status {
    function(.sessionGetInputCount)
  }
  var sessionGetOutputCount: @convention(c) (Handle, UnsafeMutablePointer<Int>?) -> Status {
    function(.sessionGetOutputCount)
  }
  var sessionGetInputName: @convention(c) (Handle, Int, Handle, OutString) -> Status {
    function(.sessionGetInputName)
  }
  var sessionGetOutputName: @convention(c) (Handle, Int, Handle, OutString) -> Status {
    function(.sessionGetOutputName)
  }
  var sessionGetInputTypeInfo: @convention(c) (Handle, Int, OutHandle) -> Status {
    function(.sessionGetInputTypeInfo)
  }
  var sessionGetOutputTypeInfo: @convention(c) (Handle, Int, OutHandle) -> Status {
    function(.sessionGetOutputTypeInfo)
  }

  // MARK: Type information

  var releaseTypeInfo: @convention(c) (Handle) -> Void { function(.releaseTypeInfo) }
  var castTypeInfoToTensorInfo: @convention(c) (Handle, OutHandle) -> Status {
    function(.castTypeInfoToTensorInfo)
  }
  var getTensorElementType: @convention(c) (Handle, UnsafeMutablePointer<Int32>?) -> Status {
    function(.getTensorElementType)
  }
  var getDimensionsCount: @convention(c) (Handle, UnsafeMutablePointer<Int>?) -> Status {
    function(.getDimensionsCount)
  }
  var getDimensions: @convention(c) (Handle, UnsafeMutablePointer<Int64>?, Int) -> Status {
    function(.getDimensions)
  }
  var getSymbolicDimensions:
    @convention(c) (Handle, UnsafeMutablePointer<UnsafePointer<CChar>?>?, Int) -> Status
  {
    function(.getSymbolicDimensions)
  }
  var getTensorTypeAndShape: @convention(c) (Handle, OutHandle) -> Status { function(.getTensorTypeAndShape) }
  var releaseTensorTypeAndShapeInfo: @convention(c) (Handle) -> Void {
    function(.releaseTensorTypeAndShapeInfo)
  }

  // MARK: Values and memory

  var createTensorWithDataAsOrtValue:
    @convention(c) (Handle, UnsafeMutableRawPointer?, Int, UnsafePointer<Int64>?, Int, Int32, OutHandle) ->
      Status
  { function(.createTensorWithDataAsOrtValue) }
  var getTensorMutableData: @convention(c) (Handle, UnsafeMutablePointer<UnsafeMutableRawPointer?>?) -> Status
  {
    function(.getTensorMutableData)
  }
  var releaseValue: @convention(c) (Handle) -> Void { function(.releaseValue) }
  var createCpuMemoryInfo: @convention(c) (Int32, Int32, OutHandle) -> Status {
    function(.createCpuMemoryInfo)
  }
  var releaseMemoryInfo: @convention(c) (Handle) -> Void { function(.releaseMemoryInfo) }
  var getAllocatorWithDefaultOptions: @convention(c) (OutHandle) -> Status {
    function(.getAllocatorWithDefaultOptions)
  }
  var allocatorFree: @convention(c) (Handle, UnsafeMutableRawPointer?) -> Status { function(.allocatorFree) }

  // MARK: Model metadata

  var sessionGetModelMetadata: @convention(c) (Handle, OutHandle) -> Status {
    function(.sessionGetModelMetadata)
  }
  var releaseModelMetadata: @convention(c) (Handle) -> Void { function(.releaseModelMetadata) }
  var modelMetadataGetProducerName: @convention(c) (Handle, Handle, OutString) -> Status {
    function(.modelMetadataGetProducerName)
  }
  var modelMetadataGetGraphName: @convention(c) (Handle, Handle, OutString) -> Status {
    function(.modelMetadataGetGraphName)
  }
  var modelMetadataGetDescription: @convention(c) (Handle, Handle, OutString) -> Status {
    function(.modelMetadataGetDescription)
  }
  var modelMetadataGetVersion: @convention(c) (Handle, UnsafeMutablePointer<Int64>?) -> Status {
    function(.modelMetadataGetVersion)
  }
  var modelMetadataGetCustomMetadataMapKeys:
    @convention(c) (
      Handle, Handle, UnsafeMutablePointer<UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>?>?,
      UnsafeMutablePointer<Int64>?
    ) -> Status
  { function(.modelMetadataGetCustomMetadataMapKeys) }
  var modelMetadataLookupCustomMetadataMap: @convention(c) (Handle, Handle, CString, OutString) -> Status {
    function(.modelMetadataLookupCustomMetadataMap)
  }

  // MARK: IO binding

  var createIoBinding: @convention(c) (Handle, OutHandle) -> Status { function(.createIoBinding) }
  var releaseIoBinding: @convention(c) (Handle) -> Void { function(.releaseIoBinding) }
  var bindInput: @convention(c) (Handle, CString, Handle) -> Status { function(.bindInput) }
  var bindOutputToDevice: @convention(c) (Handle, CString, Handle) -> Status { function(.bindOutputToDevice) }
  var runWithBinding: @convention(c) (Handle, Handle, Handle) -> Status { function(.runWithBinding) }
  var getBoundOutputValues:
    @convention(c) (
      Handle, Handle, UnsafeMutablePointer<UnsafeMutablePointer<OpaquePointer?>?>?, UnsafeMutablePointer<Int>?
    ) -> Status
  { function(.getBoundOutputValues) }
}
