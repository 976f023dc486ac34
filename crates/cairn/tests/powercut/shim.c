/*
 * shim.c: a simulated power cut for Cairn's durability test, loaded with LD_PRELOAD into the
 * real `cairn serve` process (built from shim.c and names.c by
 * crates/cairn/tests/it/power_cut.rs with the system C compiler).
 *
 * The model is a disk that keeps exactly what was made durable and loses everything else:
 *
 * - File contents. Before every write (write, pwrite, writev, pwritev, copy_file_range,
 *   sendfile, ftruncate) to a regular file under the root, the shim saves the bytes the
 *   write will overwrite in an undo log kept per inode, and the size the file had at its last
 *   sync. fsync/fdatasync of the file (through any descriptor) empties the log and records
 *   the new synced size.
 * - Names (names.c). Creating a file (open with O_CREAT), mkdir and rename under the root
 *   are pending until the directory holding the new name is fsynced. (Deletions are treated
 *   as durable at once: that can only lose more, never hide a loss.)
 *
 * A power cut restores every tracked file to its last synced content (undo logs applied in
 * reverse, then truncation to the synced size), undoes every pending name operation in
 * reverse order, writes a one-line report to <ctl>/cut and ends the process with _exit(137).
 * One mutex covers all of it and is held across each real write and fsync, so no thread can
 * change a tracked file while the cut restores it, and a write is never half-logged.
 *
 * Environment:
 *   CAIRN_POWERCUT_ROOT  the directory standing for the disk (the data dir or a parent of
 *                        it); nothing outside it is modelled.
 *   CAIRN_POWERCUT_CTL   a control dir outside the root. The cut is armed when the test
 *                        creates <ctl>/arm; the report goes to <ctl>/cut.
 *   CAIRN_POWERCUT_AT    where the cut falls once armed: "write:N" (instead of the N-th
 *                        modelled write), "fsync:N" (instead of the N-th modelled fsync, so
 *                        what it would have synced is lost) or "synced:N" (right after the
 *                        N-th modelled fsync has synced, before its caller learns it).
 *   CAIRN_POWERCUT_LIE   "1": once armed, fsync and fdatasync of files and directories
 *                        under the root return success without making anything durable: a
 *                        disk that lies, as SQLite with synchronous=OFF would be. The
 *                        negative control of the test.
 *
 * SQLite's -shm file is left alone (see is_shm). Anything else the model cannot represent
 * (writable shared mappings of data files, O_SYNC writes, renames over existing files, raw
 * write syscalls to data files...) aborts the process with a message instead of letting the
 * test pass vacuously.
 */
#include "shim.h"

#include <dlfcn.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/sendfile.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <sys/uio.h>
#include <unistd.h>

/* ---- the real functions ---- */

void *pc_real(const char *name, void **slot) {
    void *f = __atomic_load_n(slot, __ATOMIC_ACQUIRE);
    if (!f) {
        f = dlsym(RTLD_NEXT, name);
        if (!f) {
            fprintf(stderr, "powercut shim: libc has no %s\n", name);
            abort();
        }
        __atomic_store_n(slot, f, __ATOMIC_RELEASE);
    }
    return f;
}

static void *real_write, *real_pwrite, *real_pwrite64, *real_writev, *real_pwritev,
    *real_pwritev64, *real_pwritev2, *real_pwritev64v2, *real_ftruncate, *real_ftruncate64,
    *real_fsync, *real_fdatasync, *real_close, *real_open, *real_copy_file_range,
    *real_sendfile, *real_sendfile64, *real_fallocate, *real_fallocate64, *real_posix_fallocate,
    *real_posix_fallocate64, *real_mmap, *real_mmap64;

/* ---- configuration ---- */

enum at_kind { AT_NEVER, AT_WRITE, AT_FSYNC, AT_SYNCED };

int pc_active;
static char root_dir[PATH_MAX]; /* canonical */
static size_t root_len;
static char arm_path[PATH_MAX], report_path[PATH_MAX];
static enum at_kind at_kind = AT_NEVER;
static long at_n;
static int lie;

/* ---- state, all under pc_mu ---- */

pthread_mutex_t pc_mu = PTHREAD_MUTEX_INITIALIZER;
static int armed;
static long writes_after_arm, fsyncs_after_arm, lies;

struct undo {
    off_t off;
    size_t len;
    unsigned char *bytes;
};

struct file {
    dev_t dev;
    ino_t ino;
    int fd; /* the shim's own read-write descriptor of the inode */
    off_t synced_size;
    struct undo *undo;
    size_t n, cap;
};

static struct file *files;
static size_t nfiles, capfiles;

/* ---- helpers ---- */

static void say(const char *msg) {
    ssize_t (*w)(int, const void *, size_t) = REAL(write);
    (void)w(2, msg, strlen(msg));
}

void pc_unsupported(const char *what, const char *detail) {
    char msg[PATH_MAX + 256];
    snprintf(msg, sizeof msg,
             "powercut shim: cannot model %s (%s); the test would not prove anything\n", what,
             detail ? detail : "");
    say(msg);
    abort();
}

void *pc_grow(void *p, size_t *cap, size_t need, size_t elem) {
    if (need <= *cap)
        return p;
    size_t c = *cap ? *cap * 2 : 16;
    while (c < need)
        c *= 2;
    void *q = realloc(p, c * elem);
    if (!q)
        pc_unsupported("an allocation failure", "out of memory");
    *cap = c;
    return q;
}

int pc_under_root(const char *p) {
    return pc_active && strncmp(p, root_dir, root_len) == 0 &&
           (p[root_len] == '/' || p[root_len] == 0);
}

/* " (deleted)" is stripped. */
int pc_fd_path(int fd, char *out) {
    char link[64];
    snprintf(link, sizeof link, "/proc/self/fd/%d", fd);
    ssize_t n = readlink(link, out, PATH_MAX - 1);
    if (n < 0)
        return 0;
    out[n] = 0;
    static const char deleted[] = " (deleted)";
    size_t dl = sizeof deleted - 1;
    if ((size_t)n > dl && strcmp(out + n - dl, deleted) == 0)
        out[n - dl] = 0;
    return 1;
}

/*
 * SQLite's wal-index (<db>-shm) is shared memory kept in a file: never synced, never trusted
 * after a crash (the first connection resets it and rebuilds it from the WAL). It is left as
 * the process left it, which is harsher than losing it; restoring it is not even possible
 * while other threads still use its mapping (a truncation would be a SIGBUS for them).
 */
static int is_shm(const char *path) {
    size_t n = strlen(path);
    return n > 4 && strcmp(path + n - 4, "-shm") == 0;
}

/* ---- the power cut ---- */

/* Called with pc_mu held; never returns. */
static void power_cut(const char *why) {
    ssize_t (*pw)(int, const void *, size_t, off64_t) = REAL(pwrite64);
    int (*ft)(int, off64_t) = REAL(ftruncate64);
    long writes_undone = 0, bytes_undone = 0, truncated = 0;
    for (size_t i = 0; i < nfiles; i++) {
        struct file *f = &files[i];
        for (size_t j = f->n; j-- > 0;) {
            struct undo *u = &f->undo[j];
            if (pw(f->fd, u->bytes, u->len, u->off) != (ssize_t)u->len)
                pc_unsupported("a failed restore", "pwrite");
            writes_undone++;
            bytes_undone += (long)u->len;
        }
        struct stat st;
        if (fstat(f->fd, &st) != 0)
            pc_unsupported("a failed restore", "fstat");
        if (st.st_size != f->synced_size) {
            if (ft(f->fd, f->synced_size) != 0)
                pc_unsupported("a failed restore", "ftruncate");
            truncated++;
        }
    }
    long names_undone = pc_names_undo();
    int (*op)(const char *, int, ...) = REAL(open);
    int fd = op(report_path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    if (fd >= 0) {
        char line[512];
        int n = snprintf(line, sizeof line,
                         "at=%s writes_undone=%ld bytes_undone=%ld files_truncated=%ld "
                         "names_undone=%ld lies=%ld\n",
                         why, writes_undone, bytes_undone, truncated, names_undone, lies);
        ssize_t (*w)(int, const void *, size_t) = REAL(write);
        (void)w(fd, line, (size_t)n);
    }
    _exit(137);
}

/* Called with pc_mu held before a modelled write or fsync; may cut. */
static void before_op(int is_sync) {
    if (!armed) {
        if (access(arm_path, F_OK) != 0)
            return;
        armed = 1;
    }
    char why[64];
    if (is_sync) {
        fsyncs_after_arm++;
        if (at_kind == AT_FSYNC && fsyncs_after_arm == at_n) {
            snprintf(why, sizeof why, "fsync:%ld", at_n);
            power_cut(why);
        }
    } else {
        writes_after_arm++;
        if (at_kind == AT_WRITE && writes_after_arm == at_n) {
            snprintf(why, sizeof why, "write:%ld", at_n);
            power_cut(why);
        }
    }
}

/* Called with pc_mu held after a modelled fsync has synced. */
static void after_sync(void) {
    if (armed && at_kind == AT_SYNCED && fsyncs_after_arm == at_n) {
        char why[64];
        snprintf(why, sizeof why, "synced:%ld", at_n);
        power_cut(why);
    }
}

/* ---- tracked files ---- */

static struct file *find_file(const struct stat *st) {
    for (size_t i = 0; i < nfiles; i++)
        if (files[i].dev == st->st_dev && files[i].ino == st->st_ino)
            return &files[i];
    return NULL;
}

/* The tracked file `fd` refers to, starting to track it if it is under the root. */
static struct file *track(int fd, const struct stat *st) {
    struct file *f = find_file(st);
    if (f)
        return f;
    char path[PATH_MAX];
    if (!pc_fd_path(fd, path) || !pc_under_root(path) || is_shm(path))
        return NULL;
    char link[64];
    snprintf(link, sizeof link, "/proc/self/fd/%d", fd);
    int (*op)(const char *, int, ...) = REAL(open);
    int own = op(link, O_RDWR | O_CLOEXEC);
    if (own < 0)
        pc_unsupported("a data file the shim cannot reopen", path);
    files = pc_grow(files, &capfiles, nfiles + 1, sizeof *files);
    f = &files[nfiles++];
    memset(f, 0, sizeof *f);
    f->dev = st->st_dev;
    f->ino = st->st_ino;
    f->fd = own;
    /* Whatever the file holds when first seen is taken as durable. */
    f->synced_size = st->st_size;
    return f;
}

/* Saves the bytes [off, off+len) that are about to be overwritten. */
static void save(struct file *f, off_t off, size_t len, off_t cur_size) {
    if (len == 0 || off >= cur_size)
        return;
    size_t keep = (size_t)(cur_size - off) < len ? (size_t)(cur_size - off) : len;
    unsigned char *bytes = malloc(keep);
    if (!bytes)
        pc_unsupported("an allocation failure", "out of memory");
    if (pread(f->fd, bytes, keep, off) != (ssize_t)keep)
        pc_unsupported("a write whose old bytes cannot be read", "pread");
    f->undo = pc_grow(f->undo, &f->cap, f->n + 1, sizeof *f->undo);
    f->undo[f->n++] = (struct undo){off, keep, bytes};
}

static void synced(struct file *f) {
    for (size_t i = 0; i < f->n; i++)
        free(f->undo[i].bytes);
    f->n = 0;
    struct stat st;
    if (fstat(f->fd, &st) != 0)
        pc_unsupported("a synced file the shim cannot stat", "fstat");
    f->synced_size = st.st_size;
}

/*
 * Prepares a modelled write of `len` bytes at `off` (-1: the descriptor's position) to `fd`.
 * Returns 1 with pc_mu held if the file is tracked (the caller writes, then unlocks), else 0.
 */
static int begin_write(int fd, off_t off, size_t len) {
    if (!pc_active)
        return 0;
    struct stat st;
    if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode))
        return 0;
    pthread_mutex_lock(&pc_mu);
    struct file *f = track(fd, &st);
    if (!f) {
        pthread_mutex_unlock(&pc_mu);
        return 0;
    }
    int fl = fcntl(fd, F_GETFL);
    if (fl >= 0 && (fl & (O_SYNC | O_DSYNC)))
        pc_unsupported("an O_SYNC/O_DSYNC write to a data file", NULL);
    before_op(0);
    if (off < 0)
        off = (fl >= 0 && (fl & O_APPEND)) ? st.st_size : lseek(fd, 0, SEEK_CUR);
    save(f, off, len, st.st_size);
    return 1;
}

static size_t iov_len(const struct iovec *iov, int n) {
    size_t total = 0;
    for (int i = 0; i < n; i++)
        total += iov[i].iov_len;
    return total;
}

/* ---- writes ---- */

ssize_t write(int fd, const void *buf, size_t n) {
    ssize_t (*real)(int, const void *, size_t) = REAL(write);
    if (!begin_write(fd, -1, n))
        return real(fd, buf, n);
    ssize_t r = real(fd, buf, n);
    pthread_mutex_unlock(&pc_mu);
    return r;
}

#define PWRITE(name, off_type)                                                                \
    ssize_t name(int fd, const void *buf, size_t n, off_type off) {                           \
        ssize_t (*real)(int, const void *, size_t, off_type) = REAL(name);                    \
        if (!begin_write(fd, (off_t)off, n))                                                  \
            return real(fd, buf, n, off);                                                     \
        ssize_t r = real(fd, buf, n, off);                                                    \
        pthread_mutex_unlock(&pc_mu);                                                         \
        return r;                                                                             \
    }
PWRITE(pwrite, off_t)
PWRITE(pwrite64, off64_t)

ssize_t writev(int fd, const struct iovec *iov, int cnt) {
    ssize_t (*real)(int, const struct iovec *, int) = REAL(writev);
    if (!begin_write(fd, -1, iov_len(iov, cnt)))
        return real(fd, iov, cnt);
    ssize_t r = real(fd, iov, cnt);
    pthread_mutex_unlock(&pc_mu);
    return r;
}

#define PWRITEV(name, off_type)                                                               \
    ssize_t name(int fd, const struct iovec *iov, int cnt, off_type off) {                    \
        ssize_t (*real)(int, const struct iovec *, int, off_type) = REAL(name);               \
        if (!begin_write(fd, (off_t)off, iov_len(iov, cnt)))                                  \
            return real(fd, iov, cnt, off);                                                   \
        ssize_t r = real(fd, iov, cnt, off);                                                  \
        pthread_mutex_unlock(&pc_mu);                                                         \
        return r;                                                                             \
    }
PWRITEV(pwritev, off_t)
PWRITEV(pwritev64, off64_t)

#define PWRITEV2(name, off_type)                                                              \
    ssize_t name(int fd, const struct iovec *iov, int cnt, off_type off, int flags) {         \
        ssize_t (*real)(int, const struct iovec *, int, off_type, int) = REAL(name);          \
        if (!begin_write(fd, (off_t)off, iov_len(iov, cnt)))                                  \
            return real(fd, iov, cnt, off, flags);                                            \
        if (flags & (RWF_DSYNC | RWF_SYNC))                                                   \
            pc_unsupported("an RWF_SYNC write to a data file", NULL);                         \
        ssize_t r = real(fd, iov, cnt, off, flags);                                           \
        pthread_mutex_unlock(&pc_mu);                                                         \
        return r;                                                                             \
    }
PWRITEV2(pwritev2, off_t)
PWRITEV2(pwritev64v2, off64_t)

ssize_t copy_file_range(int in, off64_t *in_off, int out, off64_t *out_off, size_t n,
                        unsigned int flags) {
    ssize_t (*real)(int, off64_t *, int, off64_t *, size_t, unsigned int) =
        REAL(copy_file_range);
    if (!begin_write(out, out_off ? (off_t)*out_off : -1, n))
        return real(in, in_off, out, out_off, n, flags);
    ssize_t r = real(in, in_off, out, out_off, n, flags);
    pthread_mutex_unlock(&pc_mu);
    return r;
}

#define SENDFILE(name, off_type)                                                              \
    ssize_t name(int out, int in, off_type *off, size_t n) {                                  \
        ssize_t (*real)(int, int, off_type *, size_t) = REAL(name);                           \
        if (!begin_write(out, -1, n))                                                         \
            return real(out, in, off, n);                                                     \
        ssize_t r = real(out, in, off, n);                                                    \
        pthread_mutex_unlock(&pc_mu);                                                         \
        return r;                                                                             \
    }
SENDFILE(sendfile, off_t)
SENDFILE(sendfile64, off64_t)

/* ---- size changes ---- */

static int begin_resize(int fd, off_t len) {
    if (!pc_active)
        return 0;
    struct stat st;
    if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode))
        return 0;
    pthread_mutex_lock(&pc_mu);
    struct file *f = track(fd, &st);
    if (!f) {
        pthread_mutex_unlock(&pc_mu);
        return 0;
    }
    before_op(0);
    /* Shrinking loses the tail: keep it. Growing needs nothing (the synced size says). */
    if (len < st.st_size)
        save(f, len, (size_t)(st.st_size - len), st.st_size);
    return 1;
}

#define FTRUNCATE(name, off_type)                                                             \
    int name(int fd, off_type len) {                                                          \
        int (*real)(int, off_type) = REAL(name);                                              \
        if (!begin_resize(fd, (off_t)len))                                                    \
            return real(fd, len);                                                             \
        int r = real(fd, len);                                                                \
        pthread_mutex_unlock(&pc_mu);                                                         \
        return r;                                                                             \
    }
FTRUNCATE(ftruncate, off_t)
FTRUNCATE(ftruncate64, off64_t)

int pc_tracked_fd(int fd) {
    if (!pc_active)
        return 0;
    struct stat st;
    if (fstat(fd, &st) != 0 || !(S_ISREG(st.st_mode) || S_ISDIR(st.st_mode)))
        return 0;
    char path[PATH_MAX];
    return pc_fd_path(fd, path) && pc_under_root(path);
}

#define FALLOCATE(name, off_type)                                                             \
    int name(int fd, int mode, off_type off, off_type len) {                                  \
        int (*real)(int, int, off_type, off_type) = REAL(name);                               \
        if (mode != 0 && pc_tracked_fd(fd))                                                   \
            pc_unsupported("fallocate with a mode on a data file", NULL);                     \
        return real(fd, mode, off, len); /* growth only: the synced size covers it */         \
    }
FALLOCATE(fallocate, off_t)
FALLOCATE(fallocate64, off64_t)

#define POSIX_FALLOCATE(name, off_type)                                                       \
    int name(int fd, off_type off, off_type len) {                                            \
        int (*real)(int, off_type, off_type) = REAL(name);                                    \
        return real(fd, off, len); /* growth only: the synced size covers it */               \
    }
POSIX_FALLOCATE(posix_fallocate, off_t)
POSIX_FALLOCATE(posix_fallocate64, off64_t)

/* ---- durability ---- */

static int do_sync(int fd, int (*real)(int)) {
    if (!pc_active)
        return real(fd);
    struct stat st;
    if (fstat(fd, &st) != 0 || !(S_ISREG(st.st_mode) || S_ISDIR(st.st_mode)))
        return real(fd);
    pthread_mutex_lock(&pc_mu);
    struct file *f = NULL;
    char path[PATH_MAX];
    if (S_ISREG(st.st_mode)) {
        f = track(fd, &st);
        if (!f) {
            pthread_mutex_unlock(&pc_mu);
            return real(fd);
        }
    } else if (!pc_fd_path(fd, path) || !pc_under_root(path)) {
        pthread_mutex_unlock(&pc_mu);
        return real(fd);
    }
    before_op(1);
    if (armed && lie) {
        lies++;
        pthread_mutex_unlock(&pc_mu);
        return 0;
    }
    int r = real(fd);
    if (r == 0) {
        if (f) {
            synced(f);
        } else {
            pc_names_synced(path);
        }
        after_sync();
    }
    pthread_mutex_unlock(&pc_mu);
    return r;
}

int fsync(int fd) { return do_sync(fd, REAL(fsync)); }
int fdatasync(int fd) { return do_sync(fd, REAL(fdatasync)); }

/* Forgets a clean file when a descriptor of it closes (the inode may be reused later). */
int close(int fd) {
    int (*real)(int) = REAL(close);
    struct stat st;
    if (pc_active && fstat(fd, &st) == 0 && S_ISREG(st.st_mode)) {
        pthread_mutex_lock(&pc_mu);
        struct file *f = find_file(&st);
        if (f && f->n == 0 && f->synced_size == st.st_size && f->fd != fd) {
            real(f->fd);
            free(f->undo);
            *f = files[--nfiles];
        }
        pthread_mutex_unlock(&pc_mu);
    }
    return real(fd);
}

static int mmap_checked(int prot, int flags, int fd) {
    if (fd < 0 || !(flags & MAP_SHARED) || !(prot & PROT_WRITE) || !pc_tracked_fd(fd))
        return 1;
    char path[PATH_MAX];
    if (!pc_fd_path(fd, path) || is_shm(path))
        return 1;
    pc_unsupported("a writable shared mapping of a data file", path);
    return 0;
}

void *mmap(void *addr, size_t len, int prot, int flags, int fd, off_t off) {
    void *(*real)(void *, size_t, int, int, int, off_t) = REAL(mmap);
    mmap_checked(prot, flags, fd);
    return real(addr, len, prot, flags, fd, off);
}

void *mmap64(void *addr, size_t len, int prot, int flags, int fd, off64_t off) {
    void *(*real)(void *, size_t, int, int, int, off64_t) = REAL(mmap64);
    mmap_checked(prot, flags, fd);
    return real(addr, len, prot, flags, fd, off);
}

/* ---- start-up ---- */

__attribute__((constructor)) static void init(void) {
    const char *data = getenv("CAIRN_POWERCUT_ROOT");
    const char *ctl = getenv("CAIRN_POWERCUT_CTL");
    if (!data || !ctl)
        return;
    if (!realpath(data, root_dir))
        pc_unsupported("a CAIRN_POWERCUT_ROOT that does not exist", data);
    root_len = strlen(root_dir);
    snprintf(arm_path, sizeof arm_path, "%s/arm", ctl);
    snprintf(report_path, sizeof report_path, "%s/cut", ctl);
    const char *at = getenv("CAIRN_POWERCUT_AT");
    if (at && strncmp(at, "write:", 6) == 0) {
        at_kind = AT_WRITE;
        at_n = atol(at + 6);
    } else if (at && strncmp(at, "fsync:", 6) == 0) {
        at_kind = AT_FSYNC;
        at_n = atol(at + 6);
    } else if (at && strncmp(at, "synced:", 7) == 0) {
        at_kind = AT_SYNCED;
        at_n = atol(at + 7);
    } else if (at) {
        pc_unsupported("an unknown CAIRN_POWERCUT_AT", at);
    }
    const char *l = getenv("CAIRN_POWERCUT_LIE");
    lie = l && strcmp(l, "1") == 0;
    pc_active = 1;
}
