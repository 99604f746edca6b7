#include "store/sqlite/gathered_writes.hpp"

#include "store/sqlite/connection.hpp"

#include <algorithm>
#include <new>
#include <stdexcept>
#include <string>
#include <vector>

namespace engined::store::sqlite {
namespace {

constexpr const char* kVfsName = "engined-gathered-writes";

// The unix VFS writes at most 128 KiB - 1 bytes per call; 64 KiB is 16 pages, enough to make the
// cost of a call small beside its copy.
constexpr int kWriteBytes = 64 * 1024;
// Past this, what is held is written before more is gathered: a checkpoint of a large WAL or the
// WAL's preallocation would otherwise hold the whole file.
constexpr std::size_t kHeldBytesLimit = 1024 * 1024;

// SQLite allocates the VFS's szOsFile bytes for each file: this object, then the default VFS's
// own file object.
struct GatheredFile {
    sqlite3_file base;
    std::vector<char> held;
    sqlite3_int64 held_offset = 0;

    sqlite3_file* real() { return reinterpret_cast<sqlite3_file*>(this + 1); }

    int write_held() {
        if (held.empty()) return SQLITE_OK;
        const std::size_t size = held.size();
        int rc = SQLITE_OK;
        for (std::size_t done = 0; done < size && rc == SQLITE_OK; done += kWriteBytes) {
            const int length = static_cast<int>(std::min<std::size_t>(kWriteBytes, size - done));
            rc = real()->pMethods->xWrite(real(), held.data() + done, length,
                                          held_offset + static_cast<sqlite3_int64>(done));
        }
        // A failed write fails the commit or checkpoint that needed it: SQLite rolls the
        // transaction back, and frames it never published are garbage to every reader.
        held.clear();
        return rc;
    }
};
static_assert(sizeof(GatheredFile) % alignof(sqlite3_int64) == 0,
              "the default VFS's file object follows GatheredFile and needs its alignment");

GatheredFile& gathered(sqlite3_file* file) {
    return *reinterpret_cast<GatheredFile*>(file);
}
sqlite3_file* real(sqlite3_file* file) {
    return gathered(file).real();
}
// What every call but a write, and those that neither read nor change the file, starts with.
int write_held(sqlite3_file* file) {
    return gathered(file).write_held();
}

int gathered_close(sqlite3_file* file) {
    GatheredFile& self = gathered(file);
    const int written = self.write_held();
    const int closed = self.real()->pMethods->xClose(self.real());
    self.~GatheredFile();
    return written != SQLITE_OK ? written : closed;
}

int gathered_read(sqlite3_file* file, void* buffer, int amount, sqlite3_int64 offset) {
    if (const int rc = write_held(file); rc != SQLITE_OK) return rc;
    return real(file)->pMethods->xRead(real(file), buffer, amount, offset);
}

int gathered_write(sqlite3_file* file, const void* data, int amount, sqlite3_int64 offset) {
    GatheredFile& self = gathered(file);
    const bool follows = offset == self.held_offset + static_cast<sqlite3_int64>(self.held.size());
    if (!self.held.empty() &&
        (!follows || self.held.size() + static_cast<std::size_t>(amount) > kHeldBytesLimit)) {
        if (const int rc = self.write_held(); rc != SQLITE_OK) return rc;
    }
    if (self.held.empty()) self.held_offset = offset;
    const char* bytes = static_cast<const char*>(data);
    self.held.insert(self.held.end(), bytes, bytes + amount);
    return SQLITE_OK;
}

int gathered_truncate(sqlite3_file* file, sqlite3_int64 size) {
    if (const int rc = write_held(file); rc != SQLITE_OK) return rc;
    return real(file)->pMethods->xTruncate(real(file), size);
}

int gathered_sync(sqlite3_file* file, int flags) {
    if (const int rc = write_held(file); rc != SQLITE_OK) return rc;
    return real(file)->pMethods->xSync(real(file), flags);
}

int gathered_file_size(sqlite3_file* file, sqlite3_int64* size) {
    if (const int rc = write_held(file); rc != SQLITE_OK) return rc;
    return real(file)->pMethods->xFileSize(real(file), size);
}

int gathered_lock(sqlite3_file* file, int level) {
    if (const int rc = write_held(file); rc != SQLITE_OK) return rc;
    return real(file)->pMethods->xLock(real(file), level);
}

int gathered_unlock(sqlite3_file* file, int level) {
    if (const int rc = write_held(file); rc != SQLITE_OK) return rc;
    return real(file)->pMethods->xUnlock(real(file), level);
}

int gathered_check_reserved_lock(sqlite3_file* file, int* reserved) {
    return real(file)->pMethods->xCheckReservedLock(real(file), reserved);
}

int gathered_file_control(sqlite3_file* file, int op, void* argument) {
    if (const int rc = write_held(file); rc != SQLITE_OK) return rc;
    return real(file)->pMethods->xFileControl(real(file), op, argument);
}

int gathered_sector_size(sqlite3_file* file) {
    return real(file)->pMethods->xSectorSize(real(file));
}

int gathered_device_characteristics(sqlite3_file* file) {
    return real(file)->pMethods->xDeviceCharacteristics(real(file));
}

// The WAL index in shared memory is not the file's content: no write needs to precede it.
int gathered_shm_map(sqlite3_file* file, int region, int size, int extend, void volatile** map) {
    return real(file)->pMethods->xShmMap(real(file), region, size, extend, map);
}

int gathered_shm_lock(sqlite3_file* file, int offset, int count, int flags) {
    return real(file)->pMethods->xShmLock(real(file), offset, count, flags);
}

void gathered_shm_barrier(sqlite3_file* file) {
    real(file)->pMethods->xShmBarrier(real(file));
}

int gathered_shm_unmap(sqlite3_file* file, int delete_flag) {
    return real(file)->pMethods->xShmUnmap(real(file), delete_flag);
}

int gathered_fetch(sqlite3_file* file, sqlite3_int64 offset, int amount, void** page) {
    if (const int rc = write_held(file); rc != SQLITE_OK) return rc;
    return real(file)->pMethods->xFetch(real(file), offset, amount, page);
}

int gathered_unfetch(sqlite3_file* file, sqlite3_int64 offset, void* page) {
    return real(file)->pMethods->xUnfetch(real(file), offset, page);
}

const sqlite3_io_methods kGatheredMethods = {
    3,
    gathered_close,
    gathered_read,
    gathered_write,
    gathered_truncate,
    gathered_sync,
    gathered_file_size,
    gathered_lock,
    gathered_unlock,
    gathered_check_reserved_lock,
    gathered_file_control,
    gathered_sector_size,
    gathered_device_characteristics,
    gathered_shm_map,
    gathered_shm_lock,
    gathered_shm_barrier,
    gathered_shm_unmap,
    gathered_fetch,
    gathered_unfetch,
};

sqlite3_vfs* parent(sqlite3_vfs* vfs) {
    return static_cast<sqlite3_vfs*>(vfs->pAppData);
}

int gathered_open(sqlite3_vfs* vfs, sqlite3_filename name, sqlite3_file* file, int flags,
                  int* out_flags) {
    auto* self = new (file) GatheredFile{};
    sqlite3_vfs* below = parent(vfs);
    const int rc = below->xOpen(below, name, self->real(), flags, out_flags);
    const sqlite3_io_methods* methods = self->real()->pMethods;
    if (rc == SQLITE_OK && methods != nullptr && methods->iVersion >= 3) {
        self->base.pMethods = &kGatheredMethods;
        return SQLITE_OK;
    }
    // SQLite closes only a file whose methods are set: a failed open is undone here.
    if (methods != nullptr) methods->xClose(self->real());
    self->~GatheredFile();
    file->pMethods = nullptr;
    return rc != SQLITE_OK ? rc : SQLITE_CANTOPEN;
}

sqlite3_vfs make_vfs(sqlite3_vfs* below) {
    sqlite3_vfs vfs = *below;
    vfs.szOsFile = static_cast<int>(sizeof(GatheredFile)) + below->szOsFile;
    vfs.pNext = nullptr;
    vfs.zName = kVfsName;
    vfs.pAppData = below;
    vfs.xOpen = gathered_open;
    // Everything that is not a file's content goes to the default VFS, as itself.
    vfs.xDelete = [](sqlite3_vfs* v, const char* path, int sync_dir) {
        return parent(v)->xDelete(parent(v), path, sync_dir);
    };
    vfs.xAccess = [](sqlite3_vfs* v, const char* path, int flags, int* result) {
        return parent(v)->xAccess(parent(v), path, flags, result);
    };
    vfs.xFullPathname = [](sqlite3_vfs* v, const char* path, int size, char* out) {
        return parent(v)->xFullPathname(parent(v), path, size, out);
    };
    vfs.xDlOpen = [](sqlite3_vfs* v, const char* path) {
        return parent(v)->xDlOpen(parent(v), path);
    };
    vfs.xDlError = [](sqlite3_vfs* v, int size, char* message) {
        parent(v)->xDlError(parent(v), size, message);
    };
    vfs.xDlSym = [](sqlite3_vfs* v, void* library, const char* symbol) {
        return parent(v)->xDlSym(parent(v), library, symbol);
    };
    vfs.xDlClose = [](sqlite3_vfs* v, void* library) { parent(v)->xDlClose(parent(v), library); };
    vfs.xRandomness = [](sqlite3_vfs* v, int size, char* out) {
        return parent(v)->xRandomness(parent(v), size, out);
    };
    vfs.xSleep = [](sqlite3_vfs* v, int microseconds) {
        return parent(v)->xSleep(parent(v), microseconds);
    };
    vfs.xCurrentTime = [](sqlite3_vfs* v, double* now) {
        return parent(v)->xCurrentTime(parent(v), now);
    };
    vfs.xGetLastError = [](sqlite3_vfs* v, int size, char* out) {
        return parent(v)->xGetLastError(parent(v), size, out);
    };
    vfs.xCurrentTimeInt64 = [](sqlite3_vfs* v, sqlite3_int64* now) {
        return parent(v)->xCurrentTimeInt64(parent(v), now);
    };
    vfs.xSetSystemCall = [](sqlite3_vfs* v, const char* name, sqlite3_syscall_ptr call) {
        return parent(v)->xSetSystemCall(parent(v), name, call);
    };
    vfs.xGetSystemCall = [](sqlite3_vfs* v, const char* name) {
        return parent(v)->xGetSystemCall(parent(v), name);
    };
    vfs.xNextSystemCall = [](sqlite3_vfs* v, const char* name) {
        return parent(v)->xNextSystemCall(parent(v), name);
    };
    return vfs;
}

}  // namespace

const char* gathered_writes_vfs() {
    static sqlite3_vfs vfs = [] {
        // Finding the default VFS initialises SQLite, after which its options are fixed.
        configure_library_once();
        sqlite3_vfs* below = sqlite3_vfs_find(nullptr);
        if (below == nullptr || below->iVersion < 3) {
            throw std::runtime_error("SQLite has no default VFS of version 3 to gather writes for");
        }
        return make_vfs(below);
    }();
    static const bool registered = [] {
        if (sqlite3_vfs_register(&vfs, 0) != SQLITE_OK) {
            throw std::runtime_error("cannot register SQLite's VFS " + std::string(kVfsName));
        }
        return true;
    }();
    (void)registered;
    return kVfsName;
}

}  // namespace engined::store::sqlite
