import Foundation
import Testing

/// `glimpse serve` with TLS and a key file, driven as an operator would: curl, `glimpse keys`,
/// and SIGHUP.
@Suite(.serialized) struct ServeSecurityTests {
  /// Runs a command, returning its status and standard output.
  private func shell(_ arguments: [String]) throws -> (status: Int32, output: String) {
    let process = Process()
    let pipe = Pipe()
    process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
    process.arguments = arguments
    process.standardOutput = pipe
    process.standardError = FileHandle.nullDevice
    try process.run()
    let data = pipe.fileHandleForReading.readDataToEndOfFile()
    process.waitUntilExit()
    return (process.terminationStatus, String(decoding: data, as: UTF8.self))
  }

  @Test func servesHTTPSWithACertificateCurlAccepts() async throws {
    let folder = try CLIRunner.temporaryFolder()
    let cert = folder.appendingPathComponent("cert.pem").path
    let key = folder.appendingPathComponent("key.pem").path
    let made = try shell([
      "openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", key, "-out", cert, "-days", "1",
      "-subj", "/CN=localhost", "-addext", "subjectAltName=DNS:localhost,IP:127.0.0.1",
    ])
    try #require(made.status == 0, "openssl made the certificate")
    let server = try ServeCommandTests.Server(
      folder: folder, arguments: ["--tls-cert", cert, "--tls-key", key])
    defer { server.running.kill() }
    let url = "https://127.0.0.1:\(server.port)/healthz"
    var answer = (status: Int32(-1), output: "")
    for _ in 0..<300 {
      answer = try shell(["curl", "-sS", "--cacert", cert, url])
      if answer.status == 0 { break }
      try await Task.sleep(for: .milliseconds(100))
    }
    #expect(answer.status == 0)
    #expect(answer.output.contains("\"ok\""), "\(answer.output)")
    let plain = try shell([
      "curl", "-sS", "-o", "/dev/null", "-w", "%{http_code}", "http://127.0.0.1:\(server.port)/healthz",
    ])
    #expect(plain.output != "200", "plain HTTP is not served on a TLS port")
  }

  @Test func keysComeFromAFileAndReloadOnSIGHUP() async throws {
    let folder = try CLIRunner.temporaryFolder()
    let keyFile = folder.appendingPathComponent("keys").path
    let writer = try CLIRunner.run(["keys", "new", "indexer", "--scope", "write", "--file", keyFile])
    try #require(writer.status == 0, "\(writer.stderr)")
    let writerKey = writer.stdout.trimmingCharacters(in: .whitespacesAndNewlines)
    #expect(writerKey.hasPrefix("glk_"))
    let stored = try String(contentsOfFile: keyFile, encoding: .utf8)
    #expect(!stored.contains(writerKey), "the file keeps only the key's hash")
    let server = try ServeCommandTests.Server(folder: folder, arguments: ["--api-key-file", keyFile])
    defer { server.running.kill() }
    try await server.waitUntilReady()
    let item: [String: Any] = ["embedding": [Float](repeating: 0.5, count: 16)]  // the demo model's dimension
    #expect(try await server.post("/v1/items", json: item, key: writerKey).1 == 201)
    // A key added to the file works once the server has re-read it.
    let later = try CLIRunner.run(["keys", "new", "later", "--scope", "write", "--file", keyFile])
    let laterKey = later.stdout.trimmingCharacters(in: .whitespacesAndNewlines)
    #expect(try await server.post("/v1/items", json: item, key: laterKey).1 == 401)
    kill(server.running.process.processIdentifier, SIGHUP)
    var status = 0
    for _ in 0..<100 {
      status = try await server.post("/v1/items", json: item, key: laterKey).1
      if status == 201 { break }
      try await Task.sleep(for: .milliseconds(50))
    }
    #expect(status == 201, "the key added to the file works after SIGHUP")
    #expect(server.running.process.isRunning, "SIGHUP does not stop the server")
  }
}
