import NIOSSL

/// A PEM certificate chain and private key for `--tls-cert` / `--tls-key`.
public struct TLSFiles: Sendable {
  public var certificatePath: String
  public var privateKeyPath: String

  public init(certificatePath: String, privateKeyPath: String) {
    self.certificatePath = certificatePath
    self.privateKeyPath = privateKeyPath
  }

  /// The server's TLS configuration (TLS 1.2 and 1.3, NIOSSL's default ciphers); throws with
  /// the file at fault when one cannot be read.
  func serverConfiguration() throws -> TLSConfiguration {
    let chain: [NIOSSLCertificate]
    let key: NIOSSLPrivateKey
    do {
      chain = try NIOSSLCertificate.fromPEMFile(certificatePath)
    } catch {
      throw ServerSetupError("cannot read the TLS certificate \(certificatePath): \(error)")
    }
    do {
      key = try NIOSSLPrivateKey(file: privateKeyPath, format: .pem)
    } catch {
      throw ServerSetupError("cannot read the TLS private key \(privateKeyPath): \(error)")
    }
    var configuration = TLSConfiguration.makeServerConfiguration(
      certificateChain: chain.map { .certificate($0) }, privateKey: .privateKey(key))
    configuration.minimumTLSVersion = .tlsv12
    return configuration
  }
}
