/*
 * names.c: the directory half of the power-cut shim (see shim.c for the model).
 *
 * A name created under the root (open with O_CREAT of a file that did not exist, mkdir,
 * rename) is pending until the directory holding it is fsynced; a power cut undoes every
 * pending one, newest first (a rename is put back, a new file or directory is removed).
 * Deletions are durable at once: that can only lose more, never hide a loss.
 */
#include "shim.h"

#include <fcntl.h>
#include <ftw.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

static void *real_openat, *real_openat64, *real_mkdirat, *real_rename, *real_renameat2,
    *real_truncate, *real_truncate64, *real_syscall;

enum ns_kind { NS_CREATE, NS_MKDIR, NS_RENAME };

struct nsop {
    enum ns_kind kind;
    char *path; /* the new name */
    char *from; /* NS_RENAME: the old name */
};

/* Pending name changes, oldest first (under pc_mu). */
static struct nsop *ops;
static size_t nops, capops;

/*
 * The canonical absolute path of `p` (relative to `dirfd`) whose last component may not
 * exist yet: the parent is resolved with realpath, the last component is kept. 0 on failure.
 */
static int canon(int dirfd, const char *p, char *out) {
    char abs[PATH_MAX * 2];
    if (p[0] == '/') {
        snprintf(abs, sizeof abs, "%s", p);
    } else {
        char base[PATH_MAX];
        if (dirfd == AT_FDCWD) {
            if (!getcwd(base, sizeof base))
                return 0;
        } else if (!pc_fd_path(dirfd, base)) {
            return 0;
        }
        snprintf(abs, sizeof abs, "%s/%s", base, p);
    }
    size_t len = strlen(abs);
    while (len > 1 && abs[len - 1] == '/')
        abs[--len] = 0;
    char *slash = strrchr(abs, '/');
    if (!slash)
        return 0;
    char parent[PATH_MAX];
    if (slash == abs) {
        snprintf(parent, sizeof parent, "/");
    } else {
        *slash = 0;
        if (!realpath(abs, parent))
            return 0;
        *slash = '/';
    }
    if (strcmp(parent, "/") == 0)
        snprintf(out, PATH_MAX, "%s", slash);
    else if ((size_t)snprintf(out, PATH_MAX, "%s%s", parent, slash) >= PATH_MAX)
        return 0;
    return 1;
}

/* The directory holding `path`. */
static void parent_of(const char *path, char *out) {
    snprintf(out, PATH_MAX, "%s", path);
    char *slash = strrchr(out, '/');
    if (slash == out)
        out[1] = 0;
    else if (slash)
        *slash = 0;
}

static int remove_entry(const char *path, const struct stat *st, int flag, struct FTW *ftw) {
    (void)st;
    (void)flag;
    (void)ftw;
    remove(path);
    return 0;
}

void pc_names_synced(const char *dir) {
    size_t kept = 0;
    for (size_t i = 0; i < nops; i++) {
        char parent[PATH_MAX];
        parent_of(ops[i].path, parent);
        if (strcmp(parent, dir) == 0) {
            free(ops[i].path);
            free(ops[i].from);
        } else {
            ops[kept++] = ops[i];
        }
    }
    nops = kept;
}

long pc_names_undo(void) {
    int (*rn)(const char *, const char *) = REAL(rename);
    for (size_t i = nops; i-- > 0;) {
        struct nsop *op = &ops[i];
        switch (op->kind) {
        case NS_RENAME:
            rn(op->path, op->from);
            break;
        case NS_CREATE:
            unlink(op->path);
            break;
        case NS_MKDIR:
            nftw(op->path, remove_entry, 16, FTW_DEPTH | FTW_PHYS);
            break;
        }
    }
    return (long)nops;
}

static void add_op(enum ns_kind kind, const char *path, const char *from) {
    ops = pc_grow(ops, &capops, nops + 1, sizeof *ops);
    ops[nops++] = (struct nsop){kind, strdup(path), from ? strdup(from) : NULL};
}

/* Opens with O_CREAT under the root record the creation of a new file. */
static int open_common(int dirfd, const char *path, int flags, mode_t mode,
                       int (*real)(int, const char *, int, ...)) {
    char abs[PATH_MAX];
    if (!pc_active || !(flags & O_CREAT) || !canon(dirfd, path, abs) || !pc_under_root(abs))
        return real(dirfd, path, flags, mode);
    if ((flags & O_TMPFILE) == O_TMPFILE)
        pc_unsupported("O_TMPFILE under the root", abs);
    pthread_mutex_lock(&pc_mu);
    struct stat st;
    int existed = lstat(abs, &st) == 0;
    if (existed && (flags & O_TRUNC) && S_ISREG(st.st_mode) && st.st_size > 0)
        pc_unsupported("O_TRUNC of a non-empty data file", abs);
    int fd = real(dirfd, path, flags, mode);
    if (fd >= 0 && !existed)
        add_op(NS_CREATE, abs, NULL);
    pthread_mutex_unlock(&pc_mu);
    return fd;
}

static mode_t mode_arg(int flags, va_list ap) {
    int needs = (flags & O_CREAT) || (flags & O_TMPFILE) == O_TMPFILE;
    return needs ? (mode_t)va_arg(ap, int) : 0;
}

int open(const char *path, int flags, ...) {
    va_list ap;
    va_start(ap, flags);
    mode_t mode = mode_arg(flags, ap);
    va_end(ap);
    return open_common(AT_FDCWD, path, flags, mode, REAL(openat));
}

int open64(const char *path, int flags, ...) {
    va_list ap;
    va_start(ap, flags);
    mode_t mode = mode_arg(flags, ap);
    va_end(ap);
    return open_common(AT_FDCWD, path, flags, mode, REAL(openat64));
}

int openat(int dirfd, const char *path, int flags, ...) {
    va_list ap;
    va_start(ap, flags);
    mode_t mode = mode_arg(flags, ap);
    va_end(ap);
    return open_common(dirfd, path, flags, mode, REAL(openat));
}

int openat64(int dirfd, const char *path, int flags, ...) {
    va_list ap;
    va_start(ap, flags);
    mode_t mode = mode_arg(flags, ap);
    va_end(ap);
    return open_common(dirfd, path, flags, mode, REAL(openat64));
}

int __open_2(const char *path, int flags) {
    return open_common(AT_FDCWD, path, flags, 0, REAL(openat));
}

int __open64_2(const char *path, int flags) {
    return open_common(AT_FDCWD, path, flags, 0, REAL(openat64));
}

int creat(const char *path, mode_t mode) {
    return open_common(AT_FDCWD, path, O_CREAT | O_WRONLY | O_TRUNC, mode, REAL(openat));
}

int creat64(const char *path, mode_t mode) {
    return open_common(AT_FDCWD, path, O_CREAT | O_WRONLY | O_TRUNC, mode, REAL(openat64));
}

static int mkdir_common(int dirfd, const char *path, mode_t mode) {
    int (*real)(int, const char *, mode_t) = REAL(mkdirat);
    char abs[PATH_MAX];
    if (!pc_active || !canon(dirfd, path, abs) || !pc_under_root(abs))
        return real(dirfd, path, mode);
    pthread_mutex_lock(&pc_mu);
    int r = real(dirfd, path, mode);
    if (r == 0)
        add_op(NS_MKDIR, abs, NULL);
    pthread_mutex_unlock(&pc_mu);
    return r;
}

int mkdir(const char *path, mode_t mode) { return mkdir_common(AT_FDCWD, path, mode); }
int mkdirat(int dirfd, const char *path, mode_t mode) {
    return mkdir_common(dirfd, path, mode);
}

static int rename_common(int olddir, const char *from, int newdir, const char *to,
                         unsigned int flags) {
    int (*real)(int, const char *, int, const char *, unsigned int) = REAL(renameat2);
    char abs_from[PATH_MAX], abs_to[PATH_MAX];
    if (!pc_active || !canon(olddir, from, abs_from) || !canon(newdir, to, abs_to) ||
        (!pc_under_root(abs_from) && !pc_under_root(abs_to)))
        return real(olddir, from, newdir, to, flags);
    if (flags & ~(unsigned int)RENAME_NOREPLACE)
        pc_unsupported("renameat2 flags under the root", abs_to);
    pthread_mutex_lock(&pc_mu);
    struct stat st;
    if (lstat(abs_to, &st) == 0 && !(flags & RENAME_NOREPLACE))
        pc_unsupported("a rename over an existing data file", abs_to);
    int r = real(olddir, from, newdir, to, flags);
    if (r == 0)
        add_op(NS_RENAME, abs_to, abs_from);
    pthread_mutex_unlock(&pc_mu);
    return r;
}

int rename(const char *from, const char *to) {
    return rename_common(AT_FDCWD, from, AT_FDCWD, to, 0);
}

int renameat(int olddir, const char *from, int newdir, const char *to) {
    return rename_common(olddir, from, newdir, to, 0);
}

int renameat2(int olddir, const char *from, int newdir, const char *to, unsigned int flags) {
    return rename_common(olddir, from, newdir, to, flags);
}

/* The path a raw syscall would create, rename or truncate, with its directory descriptor. */
static const char *syscall_path(long nr, const long *a, int *dirfd) {
    *dirfd = AT_FDCWD;
    switch (nr) {
#ifdef SYS_open
    case SYS_open:
        return (a[1] & (O_CREAT | O_TRUNC)) ? (const char *)a[0] : NULL;
    case SYS_creat:
    case SYS_mkdir:
    case SYS_rename:
    case SYS_truncate:
        return (const char *)a[0];
#endif
    case SYS_openat:
        *dirfd = (int)a[0];
        return (a[2] & (O_CREAT | O_TRUNC)) ? (const char *)a[1] : NULL;
    case SYS_mkdirat:
    case SYS_renameat:
    case SYS_renameat2:
        *dirfd = (int)a[0];
        return (const char *)a[1];
    default:
        return NULL;
    }
}

/* The descriptor a raw syscall writes to or syncs, or -1. */
static int syscall_fd(long nr, const long *a) {
    switch (nr) {
    case SYS_write:
    case SYS_pwrite64:
    case SYS_writev:
    case SYS_pwritev:
    case SYS_pwritev2:
    case SYS_ftruncate:
    case SYS_fsync:
    case SYS_fdatasync:
    case SYS_fallocate:
    case SYS_sync_file_range:
    case SYS_sendfile:
        return (int)a[0];
    case SYS_copy_file_range:
    case SYS_splice:
        return (int)a[2];
    default:
        return -1;
    }
}

/* Truncating by path is not modelled (nothing does it to data files). */
#define TRUNCATE(name, off_type)                                                              \
    int name(const char *path, off_type len) {                                                \
        int (*real)(const char *, off_type) = REAL(name);                                     \
        char abs[PATH_MAX];                                                                   \
        if (pc_active && canon(AT_FDCWD, path, abs) && pc_under_root(abs))                    \
            pc_unsupported("truncate by path of a data file", abs);                           \
        return real(path, len);                                                               \
    }
TRUNCATE(truncate, off_t)
TRUNCATE(truncate64, off64_t)

/* Raw syscalls that would change data files behind the shim's back are refused. */
long syscall(long nr, ...) {
    long (*real)(long, ...) = REAL(syscall);
    va_list ap;
    va_start(ap, nr);
    long a[6];
    for (int i = 0; i < 6; i++)
        a[i] = va_arg(ap, long);
    va_end(ap);
    if (pc_active) {
        int dirfd;
        const char *p = syscall_path(nr, a, &dirfd);
        char abs[PATH_MAX];
        if (p && canon(dirfd, p, abs) && pc_under_root(abs))
            pc_unsupported("a raw syscall on a data path", abs);
        int fd = syscall_fd(nr, a);
        if (fd >= 0 && pc_tracked_fd(fd))
            pc_unsupported("a raw write or sync syscall on a data file", NULL);
    }
    return real(nr, a[0], a[1], a[2], a[3], a[4], a[5]);
}
