import CLIP
import GlimpseServer
import Hardware
import Logging
import ONNXRuntime

extension ServeModelLoader {
  /// The GPU paths the plan allows, each logged; a preprocessing graph that cannot load on
  /// the device is a warning and the exact CPU path, never a failed start.
  func acceleration(
    clip: CLIPModel, choice: DeviceChoice, environment: ORTEnvironment, configuration: SessionConfiguration
  ) throws -> ModelAcceleration {
    let plan = try runtime.acceleratorPlan(for: choice)
    // Batches are padded only when the visual tower's session really replays graphs.
    let graphs = plan.cudaGraphs && clip.visual.usesCUDAGraph
    var acceleration = ModelAcceleration(jpegDecoder: plan.nvjpeg, cudaGraphs: graphs)
    if let decoder = plan.nvjpeg {
      logger.info("Decoding baseline JPEGs with nvJPEG (\(decoder.library.name)); other images on the CPU")
    }
    if graphs { logger.info("CUDA graphs on: image batches padded to 1, 8, 32, 128") }
    guard plan.graphPreprocess else {
      logger.info("Preprocessing on the CPU (exact path)")
      return acceleration
    }
    do {
      acceleration.graphPreprocessor = try clip.graphPreprocessor(
        environment: environment, configuration: configuration, logger: logger)
      logger.info(
        "Preprocessing with the ONNX graph on \(choice.device) (--exact-preprocess for the CPU path)")
    } catch {
      logger.warning(
        "ONNX preprocessing graph not used: it failed to load (\(error)); preprocessing on the CPU")
    }
    return acceleration
  }
}
