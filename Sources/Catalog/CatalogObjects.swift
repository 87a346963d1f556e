import Foundation

/// Objects inside catalog images: items with a `parentID`, searched alone or grouped with
/// their parent image (`group_by=parent`).
extension CatalogStore {
  /// The `k` best images: each hit counts for its parent (or itself, when it is no object), and
  /// only the best hit of each group is kept. Results are fetched in growing rounds until `k`
  /// groups are found or the catalog has no more matches, so that many objects of one image do
  /// not crowd out the other images.
  public func searchGroupedByParent(vector: [Float], k: Int, filter: SearchFilter) async throws
    -> [SearchResult]
  {
    guard k > 0 else { throw CatalogError.invalidRequest("k must be at least 1") }
    var fetch = k * 4
    while true {
      let results = try await search(vector: vector, k: fetch, filter: filter)
      let groups = groupedByParent(results, limit: k)
      if groups.count >= k || results.count < fetch || fetch >= Self.maximumGroupFetch { return groups }
      fetch = min(fetch * 4, Self.maximumGroupFetch)
    }
  }

  /// The most hits one grouped search reads (a catalog with thousands of objects in one image
  /// may return fewer than `k` groups).
  static var maximumGroupFetch: Int { 10_000 }
}

/// The best hit of each parent-or-self group, best first, at most `limit` (results come best first).
public func groupedByParent(_ results: [SearchResult], limit: Int) -> [SearchResult] {
  var seen = Set<String>()
  var groups: [SearchResult] = []
  for result in results where groups.count < limit && seen.insert(result.groupID).inserted {
    groups.append(result)
  }
  return groups
}

/// The objects of `parentID` as `replaceObjects` stores them: each with the parent set, none
/// the parent itself, no id twice.
public func preparedObjects(parentID: String, _ objects: [CatalogItem]) throws -> [CatalogItem] {
  guard !parentID.isEmpty else { throw CatalogError.invalidRequest("parent id must not be empty") }
  var ids = Set<String>()
  return try objects.map { object in
    guard object.id != parentID, object.parentID == nil || object.parentID == parentID else {
      throw CatalogError.invalidRequest("object \(object.id) is not an object of \(parentID)")
    }
    guard ids.insert(object.id).inserted else {
      throw CatalogError.invalidRequest("object id \(object.id) appears twice")
    }
    var copy = object
    copy.parentID = parentID
    return copy
  }
}
