import Catalog
import Foundation
import Testing

/// `glimpse index` killed with SIGKILL at random points keeps every item it reported as
/// stored, leaves a sound SQLite file, and a rerun finishes the rest without duplicates.
@Suite(.serialized) struct IndexDurabilityTests {
  @Test func survivesTwentyKills() throws {
    let folder = try CLIRunner.temporaryFolder()
    defer { try? FileManager.default.removeItem(at: folder) }
    let store = folder.appendingPathComponent("catalog.sqlite").path
    let arguments = ["index", CLIRunner.indexFolder.path, "--store", store, "--batch-size", "1"]
    let expected = Set(CLIRunner.imageFiles(in: CLIRunner.indexFolder)).subtracting(["hats/truncated.jpg"])
    let fullRun = try timedFullRun(arguments: arguments, store: store)
    var generator = SplitMix(seed: 20_261_125)
    var reported = Set<String>()
    var killedWhileStoring = 0
    for round in 0..<24 {
      let running = try CLIRunner.Running(arguments)
      let fraction = Double(generator.next() % 1000) / 1000
      if round % 2 == 0 {
        // Anywhere in a run, start-up included.
        Thread.sleep(forTimeInterval: fullRun * fraction)
      } else {
        // Surely mid-indexing: after the first commit, before the run could end.
        running.waitForOutput(containing: "stored ")
        Thread.sleep(forTimeInterval: fullRun * fraction * 0.3)
      }
      running.kill()
      let result = running.wait()
      let stored = result.lines.filter { $0.hasPrefix("stored ") }.map { String($0.dropFirst(7)) }
      if result.status == SIGKILL && !stored.isEmpty { killedWhileStoring += 1 }
      reported.formUnion(stored.map { $0.replacingOccurrences(of: " (reused)", with: "") })
      guard FileManager.default.fileExists(atPath: store) else { continue }
      let catalog = try SQLiteCatalog.openExisting(path: store)
      #expect(try catalog.integrityCheck() == "ok", "round \(round)")
      let present = try allIDs(catalog)
      let lost = reported.subtracting(present)
      #expect(lost.isEmpty, "round \(round): reported as stored but missing: \(lost.sorted().prefix(5))")
      // A finished catalog starts over, so that later kills still land mid-indexing.
      if present == expected && round < 20 {
        try removeStore(store)
        reported = []
      }
    }
    #expect(killedWhileStoring >= 10, "kills should land while indexing, not only at start-up or the end")

    let final = try CLIRunner.run(arguments)
    #expect(final.status == 2, "the truncated JPEG is reported as failed: \(final.stderr)")
    #expect(final.stdout.contains("failed hats/truncated.jpg"))
    let catalog = try SQLiteCatalog.openExisting(path: store)
    #expect(try allIDs(catalog) == expected)
    #expect(try catalog.integrityCheck() == "ok")
    let storedByRerun = final.lines.filter { $0.hasPrefix("stored ") }.count
    #expect(storedByRerun < expected.count, "the rerun skips what earlier runs stored")
  }

  /// Indexes once without interruption (the kill times are drawn within its duration).
  private func timedFullRun(arguments: [String], store: String) throws -> Double {
    let start = Date()
    let result = try CLIRunner.run(arguments)
    #expect(result.status == 2)
    try removeStore(store)
    return Date().timeIntervalSince(start)
  }

  private func removeStore(_ store: String) throws {
    for suffix in ["", "-wal", "-shm"] where FileManager.default.fileExists(atPath: store + suffix) {
      try FileManager.default.removeItem(atPath: store + suffix)
    }
  }

  private func allIDs(_ catalog: SQLiteCatalog) throws -> Set<String> {
    let semaphore = DispatchSemaphore(value: 0)
    nonisolated(unsafe) var result: Result<[String], Error> = .success([])
    Task {
      do {
        var ids: [String] = []
        var cursor: String?
        repeat {
          let page = try await catalog.list(cursor: cursor, limit: 1000)
          ids += page.items.map(\.id)
          cursor = page.nextCursor
        } while cursor != nil
        result = .success(ids)
      } catch {
        result = .failure(error)
      }
      semaphore.signal()
    }
    semaphore.wait()
    let ids = try result.get()
    #expect(Set(ids).count == ids.count, "no duplicate ids")
    return Set(ids)
  }
}

/// A small deterministic generator, so that a failing kill schedule can be replayed.
struct SplitMix {
  var state: UInt64
  init(seed: UInt64) { state = seed }
  mutating func next() -> UInt64 {
    state &+= 0x9E37_79B9_7F4A_7C15
    var z = state
    z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
    z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
    return z ^ (z >> 31)
  }
}
