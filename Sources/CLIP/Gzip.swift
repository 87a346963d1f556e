import CZlib
import Foundation

/// Decompresses gzip data (open_clip ships its vocabulary as bpe_simple_vocab_16e6.txt.gz).
enum Gzip {
  static func decompress(_ data: Data) throws -> Data {
    var stream = z_stream()
    // 16 + MAX_WBITS: expect a gzip header.
    guard inflateInit2_(&stream, 16 + MAX_WBITS, zlibVersion(), Int32(MemoryLayout<z_stream>.size)) == Z_OK
    else { throw TokenizerError.malformedVocabulary("zlib failed to start") }
    defer { inflateEnd(&stream) }
    var output = Data()
    var chunk = [UInt8](repeating: 0, count: 1 << 16)
    var input = [UInt8](data)
    var status = Z_OK
    try input.withUnsafeMutableBufferPointer { source in
      stream.next_in = source.baseAddress
      stream.avail_in = uInt(source.count)
      repeat {
        try chunk.withUnsafeMutableBufferPointer { target in
          stream.next_out = target.baseAddress
          stream.avail_out = uInt(target.count)
          status = inflate(&stream, Z_NO_FLUSH)
          guard status == Z_OK || status == Z_STREAM_END else {
            throw TokenizerError.malformedVocabulary("not valid gzip data (zlib error \(status))")
          }
          output.append(target.baseAddress!, count: target.count - Int(stream.avail_out))
        }
      } while status != Z_STREAM_END && (stream.avail_in > 0 || stream.avail_out == 0)
    }
    guard status == Z_STREAM_END else {
      throw TokenizerError.malformedVocabulary("truncated gzip data")
    }
    return output
  }
}
