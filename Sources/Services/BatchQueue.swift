/// The dynamic batcher's decisions, as a value without threads or clocks: which requests are
/// admitted, and, at a given moment, whether to run a batch now, wait until a deadline for
/// company, sleep until something arrives, or stop. `DynamicBatcher` keeps one under its lock
/// and only carries the decisions out; tests drive it with made-up instants.
///
/// The policy: a run takes whole requests in arrival order, up to `maxBatch` inputs. It waits
/// for company (until the oldest request has waited `maxWait`) only while it has room and
/// there is evidence of concurrency: the previous run held more than one request, more than
/// one is waiting, or the owner says other requests are on their way. A lone client (one
/// request at a time) then never waits: on a GPU the 2 ms default wait was as long as the
/// model run itself.
struct BatchQueue<Payload> {
  struct Entry {
    var size: Int
    var enqueued: ContinuousClock.Instant
    var payload: Payload
  }

  enum Admission: Equatable {
    case accepted
    case refused(BatcherError)
  }

  enum Decision {
    /// Run these requests (in order) in one model run.
    case run([Payload])
    /// Wait for more requests until this instant (or until one arrives), then decide again.
    case wait(until: ContinuousClock.Instant)
    /// Nothing is waiting: sleep until a request arrives or the queue closes.
    case idle
    /// Closed, and everything admitted has run.
    case finished
  }

  let options: BatchingOptions
  private(set) var entries: [Entry] = []
  private(set) var waitingInputs = 0
  private(set) var isClosed = false
  /// Requests in the last run: more than one means other clients are in flight.
  private var previousRunRequests = 1

  init(options: BatchingOptions) {
    self.options = options
  }

  mutating func admit(_ payload: Payload, size: Int, at now: ContinuousClock.Instant) -> Admission {
    if size > options.maxBatch { return .refused(.tooManyInputs(count: size, limit: options.maxBatch)) }
    if isClosed { return .refused(.closed) }
    if waitingInputs + size > options.queueLength {
      return .refused(.queueFull(waiting: waitingInputs, limit: options.queueLength))
    }
    entries.append(Entry(size: size, enqueued: now, payload: payload))
    waitingInputs += size
    return .accepted
  }

  /// Refuses new requests from now on; those admitted still run.
  mutating func close() {
    isClosed = true
  }

  /// What to do at `now`; `othersInFlight` is the owner's word that more requests are coming.
  mutating func decide(now: ContinuousClock.Instant, othersInFlight: Bool) -> Decision {
    guard let oldest = entries.first else { return isClosed ? .finished : .idle }
    let deadline = oldest.enqueued + options.maxWait
    if !isClosed, now < deadline, expectsMoreSoon(othersInFlight: othersInFlight) {
      return .wait(until: deadline)
    }
    return .run(takeBatch())
  }

  private func expectsMoreSoon(othersInFlight: Bool) -> Bool {
    waitingInputs < options.maxBatch && (previousRunRequests > 1 || entries.count > 1 || othersInFlight)
  }

  private mutating func takeBatch() -> [Payload] {
    var count = 0
    var size = 0
    while count < entries.count, size + entries[count].size <= options.maxBatch {
      size += entries[count].size
      count += 1
    }
    let batch = entries.prefix(count).map(\.payload)
    entries.removeFirst(count)
    waitingInputs -= size
    previousRunRequests = count
    return batch
  }
}
