/*
 * listen_unix.h — server-unix-socket: freight-api listening on a Unix-domain socket (for a proxy
 * on the same host) instead of TCP.
 */
#ifndef API_LISTEN_UNIX_H
#define API_LISTEN_UNIX_H

#include <stddef.h>

/*
 * A listening socket at path with permissions mode (e.g. 0660).  A stale socket file (nobody
 * accepts on it) is replaced; a live one, or any other kind of file, is left alone and refused.
 * -1 + message on failure.
 */
int			unix_listen(const char *path, int mode, char *err, size_t errlen);

#endif
