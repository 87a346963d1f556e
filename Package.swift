// swift-tools-version:6.0
// Glimpse: visual search and object detection server (CLIP + YOLO on ONNX Runtime).
import PackageDescription

let package = Package(
  name: "Glimpse",
  // iOS for GlimpseClient in AR apps (the server targets Linux and macOS).
  platforms: [.macOS(.v14), .iOS(.v17)],
  products: [
    .executable(name: "glimpse", targets: ["glimpse"]),
    .library(name: "GlimpseClient", targets: ["GlimpseClient"]),
  ],
  dependencies: [
    .package(url: "https://github.com/apple/swift-argument-parser", from: "1.5.0"),
    .package(url: "https://github.com/apple/swift-log", from: "1.6.0"),
    .package(url: "https://github.com/groue/GRDB.swift", from: "7.0.0"),
    .package(url: "https://github.com/vapor/postgres-nio", from: "1.21.0"),
    .package(url: "https://github.com/hummingbird-project/hummingbird", from: "2.28.0"),
    .package(url: "https://github.com/hummingbird-project/hummingbird-websocket", from: "2.8.0"),
    // NIO and HTTP types: already resolved through Hummingbird, named here because the server,
    // the client and the tests import them.
    .package(url: "https://github.com/apple/swift-nio", from: "2.80.0"),
    .package(url: "https://github.com/apple/swift-http-types", from: "1.0.0"),
    .package(url: "https://github.com/swift-server/swift-prometheus", from: "2.4.0"),
    .package(url: "https://github.com/swift-server/swift-service-lifecycle", from: "2.13.0"),
    .package(url: "https://github.com/vapor/multipart-kit", from: "4.7.0"),
    .package(url: "https://github.com/apple/swift-nio-ssl", from: "2.29.0"),
    .package(url: "https://github.com/apple/swift-crypto", "3.12.0"..<"5.0.0"),
    .package(url: "https://github.com/swift-server/async-http-client", from: "1.37.0"),
    // GlimpseClient: the runtime of the code swift-openapi-generator wrote (committed, see
    // scripts/generate-client) and its transports.
    .package(url: "https://github.com/apple/swift-openapi-runtime", from: "1.8.0"),
    .package(url: "https://github.com/swift-server/swift-openapi-async-http-client", from: "1.0.0"),
    .package(url: "https://github.com/apple/swift-openapi-urlsession", from: "1.0.0"),
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
    // Hugging Face `tokenizer.json` runtime: normalizers, pre-tokenizers, BPE / Unigram /
    // WordPiece, added tokens, post-processors, truncation and padding.
    .target(name: "Tokenizers"),
    // CLIP: model folders, tokenizer, image and text encoders, zero-shot classification.
    .target(
      name: "CLIP",
      dependencies: [
        "CZlib", "Hardware", "Imaging", "ONNXRuntime", "Tokenizers",
        .product(name: "Logging", package: "swift-log"),
      ]
    ),
    // FAISS's HNSW index (Debian libfaiss-dev, a static library) behind a C interface.
    .target(
      name: "CFaissBridge",
      // FAISS's headers include <omp.h>, which Debian ships with GCC only; searched after
      // clang's own headers so that nothing else is taken from GCC.
      cxxSettings: [.unsafeFlags(["-idirafter", "/usr/lib/gcc/x86_64-linux-gnu/12/include"])],
      linkerSettings: [
        .linkedLibrary("faiss"), .linkedLibrary("openblas"), .linkedLibrary("gomp"), .linkedLibrary("stdc++"),
      ]
    ),
    // Half-float dot products (AVX2/F16C with a portable fallback) for the exact scan.
    .target(name: "CVectorKernels"),
    // The one executor for blocking work (`offload`).
    .target(name: "BlockingWork"),
    // The catalog: store interface, embedded SQLite store, exact and HNSW vector indexes.
    .target(
      name: "Catalog",
      dependencies: [
        "BlockingWork", "CFaissBridge", "CVectorKernels", .product(name: "GRDB", package: "GRDB.swift"),
        .product(name: "Logging", package: "swift-log"),
      ]
    ),
    // The catalog in PostgreSQL with pgvector, for catalogs shared by several servers.
    .target(
      name: "PostgresCatalog",
      dependencies: [
        "Catalog", .product(name: "PostgresNIO", package: "postgres-nio"),
        .product(name: "Logging", package: "swift-log"),
      ]
    ),
    // Device selection and hardware probe (CPU, CUDA through NVML).
    .target(
      name: "Hardware",
      dependencies: ["ONNXRuntime"]
    ),
    // YOLO detection: Ultralytics exports, letterbox, NMS, distance estimates.
    .target(
      name: "Detection",
      dependencies: ["Imaging", "ONNXRuntime", .product(name: "Logging", package: "swift-log")]
    ),
    // Multi-object tracking: ByteTrack as Ultralytics implements it (Kalman filter, two-stage
    // association, Jonker-Volgenant assignment), with no dependency.
    .target(name: "Tracking"),
    // The application layer the CLI and the server both call: visual search (decode for CLIP,
    // prepare, embed, search), object detection (distances, crop search, stream tracking),
    // and the dynamic batcher the server puts in front of the models.
    .target(
      name: "Services",
      dependencies: ["Catalog", "CLIP", "Detection", "Imaging", "ONNXRuntime", "Tracking"]
    ),
    // The HTTP server: routes, the AR WebSocket stream, the web page, metrics, limits.
    .target(
      name: "GlimpseServer",
      dependencies: [
        "BlockingWork", "Catalog", "CLIP", "Detection", "Hardware", "Imaging", "ONNXRuntime", "Services",
        "Tracking",
        .product(name: "Hummingbird", package: "hummingbird"),
        .product(name: "HummingbirdCore", package: "hummingbird"),
        .product(name: "HummingbirdTLS", package: "hummingbird"),
        .product(name: "HummingbirdWebSocket", package: "hummingbird-websocket"),
        .product(name: "HTTPTypes", package: "swift-http-types"),
        .product(name: "NIOConcurrencyHelpers", package: "swift-nio"),
        .product(name: "NIOCore", package: "swift-nio"),
        .product(name: "NIOFoundationCompat", package: "swift-nio"),
        .product(name: "NIOHTTP1", package: "swift-nio"),
        .product(name: "MultipartKit", package: "multipart-kit"),
        .product(name: "NIOSSL", package: "swift-nio-ssl"),
        .product(name: "Crypto", package: "swift-crypto"),
        .product(name: "Prometheus", package: "swift-prometheus"),
        .product(name: "AsyncHTTPClient", package: "async-http-client"),
        .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
        .product(name: "UnixSignals", package: "swift-service-lifecycle"),
        .product(name: "Logging", package: "swift-log"),
      ],
      resources: [.copy("Web")]
    ),
    // The Swift client: code generated from docs/openapi.yaml (Generated/, committed) and a
    // typed layer over it, with the AR stream over a WebSocket. No UIKit or AppKit.
    .target(
      name: "GlimpseClient",
      dependencies: [
        .product(name: "OpenAPIRuntime", package: "swift-openapi-runtime"),
        .product(name: "OpenAPIAsyncHTTPClient", package: "swift-openapi-async-http-client"),
        .product(
          name: "OpenAPIURLSession", package: "swift-openapi-urlsession",
          condition: .when(platforms: [.macOS, .iOS, .tvOS, .watchOS, .visionOS])),
        .product(name: "HTTPTypes", package: "swift-http-types"),
        .product(name: "HummingbirdWSClient", package: "hummingbird-websocket"),
        .product(name: "NIOConcurrencyHelpers", package: "swift-nio"),
        .product(name: "NIOCore", package: "swift-nio"),
        .product(name: "Logging", package: "swift-log"),
      ],
      exclude: ["openapi-generator-config.yaml", "Generated/openapi.sha256"]
    ),
    // The parsers of untrusted bytes behind one entry point, for the fuzz executable and the
    // test that replays its corpora and regression inputs.
    .target(
      name: "FuzzTargets",
      dependencies: ["Catalog", "CLIP", "Detection", "GlimpseServer", "Imaging", "ONNXRuntime"]
    ),
    .executableTarget(
      name: "glimpse",
      dependencies: [
        "BlockingWork", "Catalog", "CLIP", "Detection", "GlimpseClient", "GlimpseServer", "Hardware",
        "Imaging",
        "ONNXRuntime",
        "PostgresCatalog", "Services",
        .product(name: "ArgumentParser", package: "swift-argument-parser"),
        .product(name: "AsyncHTTPClient", package: "async-http-client"),
        .product(name: "Logging", package: "swift-log"),
        .product(name: "NIOCore", package: "swift-nio"),
        .product(name: "NIOHTTP1", package: "swift-nio"),
      ]
    ),
    // Test support: a log handler that keeps what it receives, for the tests of logged fallbacks.
    .target(
      name: "LogCapture", dependencies: [.product(name: "Logging", package: "swift-log")],
      path: "Tests/LogCapture"),
    .testTarget(
      name: "ONNXRuntimeTests",
      dependencies: ["LogCapture", "ONNXRuntime", .product(name: "Logging", package: "swift-log")]),
    .testTarget(name: "BlockingWorkTests", dependencies: ["BlockingWork"]),
    .testTarget(name: "HardwareTests", dependencies: ["Hardware", "ONNXRuntime"]),
    .testTarget(
      name: "ServicesTests",
      dependencies: ["Services", "Catalog", "CLIP", "Detection", "Imaging", "ONNXRuntime"]),
    .testTarget(name: "TokenizersTests", dependencies: ["CLIP", "Tokenizers"], exclude: ["Fixtures"]),
    .testTarget(
      name: "CLIPTests", dependencies: ["CLIP", "Imaging", "ONNXRuntime", "Hardware"], exclude: ["Fixtures"]),
    .testTarget(
      name: "CatalogTests",
      dependencies: [
        "Catalog", "LogCapture", "PostgresCatalog", .product(name: "PostgresNIO", package: "postgres-nio"),
        .product(name: "GRDB", package: "GRDB.swift"), .product(name: "Logging", package: "swift-log"),
      ]
    ),
    // Runs the built `glimpse` binary: indexing, search, items, durability under SIGKILL.
    .testTarget(
      name: "GlimpseCLITests",
      dependencies: [
        "Catalog", "Imaging", "Services",
        .product(name: "Hummingbird", package: "hummingbird"),
        .product(name: "HummingbirdTesting", package: "hummingbird"),
        .product(name: "HummingbirdWSClient", package: "hummingbird-websocket"),
        .product(name: "Logging", package: "swift-log"),
        .product(name: "HTTPTypes", package: "swift-http-types"),
        .product(name: "NIOCore", package: "swift-nio"),
      ],
      exclude: ["Fixtures"]),
    .testTarget(
      name: "DetectionTests", dependencies: ["Detection", "Imaging", "ONNXRuntime"], exclude: ["Fixtures"]),
    .testTarget(
      name: "GlimpseServerTests",
      dependencies: [
        "GlimpseServer", "GlimpseClient", "Catalog", "CLIP", "Detection", "FuzzTargets", "Imaging",
        "Hardware", "ONNXRuntime",
        .product(name: "Hummingbird", package: "hummingbird"),
        .product(name: "HummingbirdTesting", package: "hummingbird"),
        .product(name: "HTTPTypes", package: "swift-http-types"),
        .product(name: "Logging", package: "swift-log"),
        .product(name: "NIOCore", package: "swift-nio"),
        .product(name: "Crypto", package: "swift-crypto"),
        .product(name: "OpenAPIRuntime", package: "swift-openapi-runtime"),
      ]
    ),
    .testTarget(
      name: "TrackingTests",
      dependencies: ["Tracking", "Catalog", "CLIP", "Detection", "Imaging", "ONNXRuntime", "Services"],
      exclude: ["Fixtures"]),
    .testTarget(name: "ImagingTests", dependencies: ["Imaging", "ONNXRuntime"], exclude: ["Fixtures"]),
  ]
)

// The libFuzzer executable, only in the manifest scripts/fuzz evaluates (GLIMPSE_FUZZ=1, own
// scratch path): a plain `swift build` neither sees nor builds it. libFuzzer supplies `main`.
if Context.environment["GLIMPSE_FUZZ"] == "1" {
  package.products.append(.executable(name: "glimpse-fuzz", targets: ["glimpse-fuzz"]))
  package.targets.append(
    .executableTarget(name: "glimpse-fuzz", dependencies: ["FuzzTargets"], path: "Fuzz/Sources/glimpse-fuzz"))
  // scripts/fuzz optimises every module (-Xswiftc -O, -Xcc -O2): see its build().
}
