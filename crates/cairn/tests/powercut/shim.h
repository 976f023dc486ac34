/*
 * shim.h: what the two halves of the power-cut shim share. shim.c models file contents and
 * cuts the power; names.c models directory entries (creations, renames). See shim.c.
 */
#ifndef CAIRN_POWERCUT_SHIM_H
#define CAIRN_POWERCUT_SHIM_H

#define _GNU_SOURCE
#include <limits.h>
#include <pthread.h>
#include <stddef.h>

/* Shared between the two files, invisible to the process the shim is loaded into. */
#define INTERNAL __attribute__((visibility("hidden")))

/* libc's definition of `name` (the next one after the shim's), looked up once. */
#define REAL(name) ((__typeof__(&name))pc_real(#name, &real_##name))
INTERNAL void *pc_real(const char *name, void **slot);

/* One lock for all the shim's state; held across every modelled write and sync. */
INTERNAL extern pthread_mutex_t pc_mu;
/* CAIRN_POWERCUT_ROOT was given: without it the shim passes everything through. */
INTERNAL extern int pc_active;

/* Aborts the process: the model cannot represent what the program just did. */
INTERNAL void pc_unsupported(const char *what, const char *detail);
INTERNAL void *pc_grow(void *p, size_t *cap, size_t need, size_t elem);
/* `path` (canonical) is under the modelled root. */
INTERNAL int pc_under_root(const char *path);
/* The path an open descriptor refers to; 0 on failure. */
INTERNAL int pc_fd_path(int fd, char *out);
/* `fd` is a regular file or a directory under the root. */
INTERNAL int pc_tracked_fd(int fd);

/* names.c, all called with pc_mu held. */
/* `dir` (canonical) was fsynced: the entries created in it are durable. */
INTERNAL void pc_names_synced(const char *dir);
/* Undoes every name change that is not durable, newest first; returns how many. */
INTERNAL long pc_names_undo(void);

#endif
