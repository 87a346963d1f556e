import Catalog
import Foundation
import PostgresNIO

/// A `postgres://user:password@host:port/database?sslmode=…` URL, with libpq's meaning for
/// the parts it shares.
///
/// Supported query parameters: `sslmode` (`disable`, `prefer` (the default), `require`,
/// `verify-full`), `sslrootcert` (a PEM file of the certificate authorities `verify-full`
/// trusts, instead of the system's), `connect_timeout` (seconds), `application_name` (shown in
/// `pg_stat_activity`) and `host` (a folder holding the server's Unix socket, as libpq takes
/// it, used when the URL names no host).
struct PostgresConnectionURL {
  enum Endpoint {
    case tcp(host: String, port: Int)
    case unixSocket(path: String)
  }

  enum SSLMode: String {
    case disable, prefer, require
    case verifyFull = "verify-full"
  }

  var endpoint: Endpoint
  var username: String
  var password: String?
  var database: String?
  var sslmode: SSLMode
  var sslRootCertificate: String?
  var connectTimeout: Duration?
  var applicationName: String?
  /// The URL without its password, for messages and logs.
  var redacted: String

  init(_ text: String) throws {
    redacted = Self.redacted(text)
    guard let components = URLComponents(string: text),
      let scheme = components.scheme, ["postgres", "postgresql"].contains(scheme)
    else {
      throw CatalogError.invalidRequest(
        "not a PostgreSQL URL: \(redacted) (expected postgres://user:password@host:port/database)")
    }
    let query = try Self.queryParameters(components)
    let mode = query["sslmode"] ?? "prefer"
    guard let sslmode = SSLMode(rawValue: mode) else {
      throw CatalogError.invalidRequest(
        "unsupported sslmode '\(mode)' (supported: disable, prefer, require, verify-full)")
    }
    self.sslmode = sslmode
    sslRootCertificate = query["sslrootcert"]
    applicationName = query["application_name"]
    if let text = query["connect_timeout"] {
      guard let seconds = Int(text), seconds > 0 else {
        throw CatalogError.invalidRequest(
          "connect_timeout must be a positive number of seconds, not '\(text)'")
      }
      connectTimeout = .seconds(seconds)
    }
    username = components.user ?? "postgres"
    password = components.password
    database = String(components.path.drop { $0 == "/" }).removingPercentEncoding.flatMap {
      $0.isEmpty ? nil : $0
    }
    let port = components.port ?? 5432
    if let host = components.host, !host.isEmpty {
      endpoint = .tcp(host: host, port: port)
    } else if let socketFolder = query["host"], socketFolder.hasPrefix("/") {
      endpoint = .unixSocket(path: "\(socketFolder)/.s.PGSQL.\(port)")
    } else {
      throw CatalogError.invalidRequest("the PostgreSQL URL \(redacted) names no host")
    }
  }

  static let supportedParameters = ["sslmode", "sslrootcert", "connect_timeout", "application_name", "host"]

  private static func queryParameters(_ components: URLComponents) throws -> [String: String] {
    var parameters: [String: String] = [:]
    for item in components.queryItems ?? [] {
      guard supportedParameters.contains(item.name) else {
        throw CatalogError.invalidRequest(
          "unsupported PostgreSQL URL parameter '\(item.name)' (supported: \(supportedParameters.joined(separator: ", ")))"
        )
      }
      parameters[item.name] = item.value ?? ""
    }
    return parameters
  }

  private static func redacted(_ text: String) -> String {
    guard var components = URLComponents(string: text), components.password != nil else { return text }
    components.password = "***"
    return components.string ?? text
  }

  /// libpq's modes: `prefer` and `require` encrypt without checking the certificate,
  /// `verify-full` checks it and the host name.
  private var tlsConfiguration: TLSConfiguration? {
    guard sslmode != .disable else { return nil }
    var configuration = TLSConfiguration.makeClientConfiguration()
    if sslmode != .verifyFull { configuration.certificateVerification = .none }
    if let sslRootCertificate { configuration.trustRoots = .file(sslRootCertificate) }
    return configuration
  }

  /// For the pool that serves the store's calls.
  var clientConfiguration: PostgresClient.Configuration {
    switch endpoint {
    case .unixSocket(let path):
      return .init(unixSocketPath: path, username: username, password: password, database: database)
    case .tcp(let host, let port):
      let tls: PostgresClient.Configuration.TLS =
        switch (sslmode, tlsConfiguration) {
        case (.prefer, let configuration?): .prefer(configuration)
        case (_, let configuration?): .require(configuration)
        case (_, nil): .disable
        }
      return .init(
        host: host, port: port, username: username, password: password, database: database, tls: tls)
    }
  }

  /// For one connection of its own (opening the catalog, probing it), given up after
  /// `connectTimeout` when the server does not answer.
  func connectionConfiguration(connectTimeout: Duration? = nil) throws -> PostgresConnection.Configuration {
    var configuration = try plainConnectionConfiguration()
    if let timeout = connectTimeout ?? self.connectTimeout {
      configuration.options.connectTimeout = TimeAmount(timeout)
    }
    return configuration
  }

  private func plainConnectionConfiguration() throws -> PostgresConnection.Configuration {
    switch endpoint {
    case .unixSocket(let path):
      return .init(unixSocketPath: path, username: username, password: password, database: database)
    case .tcp(let host, let port):
      let tls: PostgresConnection.Configuration.TLS =
        switch (sslmode, tlsConfiguration) {
        case (.prefer, let configuration?): .prefer(try NIOSSLContext(configuration: configuration))
        case (_, let configuration?): .require(try NIOSSLContext(configuration: configuration))
        case (_, nil): .disable
        }
      return .init(
        host: host, port: port, username: username, password: password, database: database, tls: tls)
    }
  }
}
