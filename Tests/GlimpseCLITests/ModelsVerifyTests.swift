import Foundation
import Testing

/// `glimpse models verify`: the quantized files against FP32 on the user's own inputs.
struct ModelsVerifyTests {
  @Test func reportsEachPrecisionAndFailsBelowTheThreshold() throws {
    let image = CLIRunner.packageRoot.appendingPathComponent(
      "Tests/ImagingTests/Fixtures/generated/jpeg_baseline_640x480.jpg"
    ).path
    let passing = try CLIRunner.run(["models", "verify", CLIRunner.tinyModel, "--image", image])
    #expect(passing.status == 0, "\(passing.stderr.suffix(300))")
    #expect(passing.stdout.contains("fp16: lowest cosine to fp32"))
    #expect(
      passing.stdout.contains("int8: lowest cosine to fp32")
        && passing.stdout.contains("over 1 images and 2 texts"))
    // The tiny INT8 towers sit near 0.999: a stricter bar must fail.
    let strict = try CLIRunner.run([
      "models", "verify", CLIRunner.tinyModel, "--image", image, "--minimum-cosine", "0.99999",
    ])
    #expect(strict.status == 1)
    #expect(strict.stdout.contains("TOO FAR"))
  }
}
