/*
 * listen_unix.c — the Unix-domain listening socket of server-unix-socket (see listen_unix.h).
 * libmicrohttpd accepts on a socket it is given but does not make Unix-domain ones.
 */
#include "listen_unix.h"

#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

/* Does a server accept connections on the socket file at addr? */
static bool
socket_in_use(const struct sockaddr_un *addr)
{
	int			fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	bool		used;

	if (fd < 0)
		return true;
	used = connect(fd, (const struct sockaddr *) addr, sizeof(*addr)) == 0;
	close(fd);
	return used;
}

int
unix_listen(const char *path, int mode, char *err, size_t errlen)
{
	struct sockaddr_un addr = {.sun_family = AF_UNIX};
	struct stat st;
	int			fd;

	if (strlen(path) >= sizeof(addr.sun_path))
	{
		snprintf(err, errlen, "server-unix-socket: the path is longer than %zu bytes: %s",
				 sizeof(addr.sun_path) - 1, path);
		return -1;
	}
	strcpy(addr.sun_path, path);
	if (lstat(path, &st) == 0)
	{
		if (!S_ISSOCK(st.st_mode))
		{
			snprintf(err, errlen, "server-unix-socket: %s exists and is not a socket; not replacing it", path);
			return -1;
		}
		if (socket_in_use(&addr))
		{
			snprintf(err, errlen, "server-unix-socket: %s is in use by another server", path);
			return -1;
		}
		unlink(path);			/* left behind by a daemon that did not stop cleanly */
	}
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0 || bind(fd, (const struct sockaddr *) &addr, sizeof(addr)) != 0)
	{
		snprintf(err, errlen, "server-unix-socket: cannot listen on %s: %s", path, strerror(errno));
		if (fd >= 0)
			close(fd);
		return -1;
	}
	if (chmod(path, (mode_t) mode) != 0 || listen(fd, 1024) != 0)
	{
		snprintf(err, errlen, "server-unix-socket: cannot listen on %s: %s", path, strerror(errno));
		close(fd);
		unlink(path);
		return -1;
	}
	return fd;
}
