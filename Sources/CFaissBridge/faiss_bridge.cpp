// FAISS's HNSW behind a C interface. Every entry point catches C++ exceptions: one must
// never unwind into Swift.
#include "faiss_bridge.h"

#include <cstdlib>
#include <cstring>
#include <exception>
#include <memory>

#include <faiss/IndexHNSW.h>
#include <faiss/impl/IDSelector.h>
#include <faiss/index_io.h>

extern "C" void omp_set_num_threads(int);

struct glimpse_hnsw {
  std::unique_ptr<faiss::IndexHNSWFlat> index;
};

static void set_error(char **error, const char *message) {
  if (error) *error = strdup(message);
}

template <typename Body>
static int guarded(char **error, Body body) {
  try {
    body();
    return 0;
  } catch (const std::exception &exception) {
    set_error(error, exception.what());
  } catch (...) {
    set_error(error, "unknown FAISS error");
  }
  return -1;
}

glimpse_hnsw *glimpse_hnsw_create(int dimension, int neighbors, int ef_construction, char **error) {
  glimpse_hnsw *result = nullptr;
  guarded(error, [&] {
    auto index = std::make_unique<faiss::IndexHNSWFlat>(dimension, neighbors, faiss::METRIC_INNER_PRODUCT);
    index->hnsw.efConstruction = ef_construction;
    result = new glimpse_hnsw{std::move(index)};
  });
  return result;
}

glimpse_hnsw *glimpse_hnsw_read(const char *path, char **error) {
  glimpse_hnsw *result = nullptr;
  guarded(error, [&] {
    std::unique_ptr<faiss::Index> loaded(faiss::read_index(path));
    auto *hnsw = dynamic_cast<faiss::IndexHNSWFlat *>(loaded.get());
    if (!hnsw) throw std::runtime_error("the file does not hold an HNSW flat index");
    loaded.release();
    result = new glimpse_hnsw{std::unique_ptr<faiss::IndexHNSWFlat>(hnsw)};
  });
  return result;
}

int glimpse_hnsw_write(const glimpse_hnsw *index, const char *path, char **error) {
  return guarded(error, [&] { faiss::write_index(index->index.get(), path); });
}

void glimpse_hnsw_free(glimpse_hnsw *index) { delete index; }

int glimpse_hnsw_add(glimpse_hnsw *index, int64_t count, const float *vectors, char **error) {
  return guarded(error, [&] { index->index->add(count, vectors); });
}

int64_t glimpse_hnsw_count(const glimpse_hnsw *index) { return index->index->ntotal; }

int glimpse_hnsw_dimension(const glimpse_hnsw *index) { return index->index->d; }

int glimpse_hnsw_search(
    const glimpse_hnsw *index, const float *query, int64_t k, int ef_search, const uint8_t *allowed,
    size_t allowed_bytes, float *scores, int64_t *labels, char **error) {
  // One query gains nothing from an OpenMP team, and under load its idle member spins: search
  // on the calling thread only (the setting is per thread, so builds keep their threads).
  omp_set_num_threads(1);
  return guarded(error, [&] {
    faiss::SearchParametersHNSW parameters;
    parameters.efSearch = ef_search;
    std::unique_ptr<faiss::IDSelectorBitmap> selector;
    if (allowed) {
      selector = std::make_unique<faiss::IDSelectorBitmap>(allowed_bytes, allowed);
      parameters.sel = selector.get();
    }
    index->index->search(1, query, k, scores, labels, &parameters);
  });
}

void glimpse_hnsw_set_ef_search(glimpse_hnsw *index, int ef_search) { index->index->hnsw.efSearch = ef_search; }


void glimpse_faiss_free_error(char *error) { free(error); }
