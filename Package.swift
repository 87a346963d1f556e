// swift-tools-version:6.0
// Glimpse: visual search and object detection server (CLIP + YOLO on ONNX Runtime).
import PackageDescription

let package = Package(
  name: "Glimpse",
  platforms: [.macOS(.v14)],
  products: [
    .executable(name: "glimpse", targets: ["glimpse"])
  ],
  dependencies: [
    .package(url: "https://github.com/apple/swift-argument-parser", from: "1.5.0"),
    .package(url: "https://github.com/apple/swift-log", from: "1.6.0"),
    .package(url: "https://github.com/groue/GRDB.swift", from: "7.0.0"),
  ],
  targets: [
    // Swift binding to the ONNX Runtime C API, loaded at run time with dlopen.
    .target(
      name: "ONNXRuntime",
      dependencies: [.product(name: "Logging", package: "swift-log")]
    ),
    // C shim over libpng (whose errors longjmp) plus the TurboJPEG and libwebp headers.
    .target(
      name: "CImageCodecs",
      linkerSettings: [.linkedLibrary("turbojpeg"), .linkedLibrary("png16"), .linkedLibrary("webp")]
    ),
    // Decoding (JPEG, PNG, WebP, EXIF orientation) and Pillow-exact resizing.
    .target(name: "Imaging", dependencies: ["CImageCodecs"]),
    .systemLibrary(name: "CZlib", path: "Sources/CZlib"),
    // CLIP: model folders, tokenizer, image and text encoders, zero-shot classification.
    .target(
      name: "CLIP",
      dependencies: ["CZlib", "Imaging", "ONNXRuntime", "Runtime"]
    ),
    // The catalog: store interface, embedded SQLite store, exact vector index.
    .target(name: "Catalog", dependencies: [.product(name: "GRDB", package: "GRDB.swift")]),
    // Device selection and hardware probe (CPU, CUDA through NVML).
    .target(
      name: "Runtime",
      dependencies: ["ONNXRuntime", .product(name: "Logging", package: "swift-log")]
    ),
    // YOLO detection: Ultralytics exports, letterbox, NMS, distance estimates.
    .target(
      name: "Detection",
      dependencies: ["Imaging", "ONNXRuntime", "Runtime", .product(name: "Logging", package: "swift-log")]
    ),
    .executableTarget(
      name: "glimpse",
      dependencies: [
        "Catalog", "CLIP", "Imaging", "ONNXRuntime", "Runtime",
        .product(name: "ArgumentParser", package: "swift-argument-parser"),
        .product(name: "Logging", package: "swift-log"),
      ]
    ),
    .testTarget(name: "ONNXRuntimeTests", dependencies: ["ONNXRuntime"]),
    .testTarget(name: "RuntimeTests", dependencies: ["Runtime"]),
    .testTarget(
      name: "CLIPTests", dependencies: ["CLIP", "Imaging", "ONNXRuntime", "Runtime"], exclude: ["Fixtures"]),
    .testTarget(name: "CatalogTests", dependencies: ["Catalog"]),
    .testTarget(
      name: "DetectionTests", dependencies: ["Detection", "Imaging", "ONNXRuntime"], exclude: ["Fixtures"]),
    .testTarget(name: "ImagingTests", dependencies: ["Imaging", "ONNXRuntime"], exclude: ["Fixtures"]),
  ]
)
