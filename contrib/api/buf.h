/*
 * buf.h — growable byte buffers and a per-request arena.
 *
 * Pure C (no libpq, no libmicrohttpd): used by the query parser, the SQL builder and the
 * response code.  Allocation failure aborts: the daemon cannot do anything useful without memory.
 */
#ifndef API_BUF_H
#define API_BUF_H

#include <stdarg.h>
#include <stddef.h>

typedef struct Buf
{
	char	   *data;			/* always NUL-terminated */
	size_t		len;
	size_t		cap;
} Buf;

void		buf_init(Buf *b);
void		buf_free(Buf *b);
void		buf_reset(Buf *b);
void		buf_add(Buf *b, const char *s, size_t n);
void		buf_puts(Buf *b, const char *s);
void		buf_putc(Buf *b, char c);
void		buf_printf(Buf *b, const char *fmt,...) __attribute__((format(printf, 2, 3)));
/* Appends s as a double-quoted SQL identifier. */
void		buf_ident(Buf *b, const char *s);
/* Appends s as a single-quoted SQL string literal (standard_conforming_strings). */
void		buf_literal(Buf *b, const char *s);
/* Appends s as the inside of a JSON string (no quotes). */
void		buf_json_escape(Buf *b, const char *s);
/*
 * Appends the contents of the file at path; 0, or the errno of a failed open or read, or EFBIG
 * when the file is longer than max bytes (b then holds a prefix).
 */
int			buf_read_file(Buf *b, const char *path, size_t max);
/* Hands the data to the caller (free() it) and resets the buffer. */
char	   *buf_steal(Buf *b);

/* An arena: everything allocated from it is freed at once. */
typedef struct ArenaBlock ArenaBlock;
typedef struct Arena
{
	ArenaBlock *head;
} Arena;

void		arena_init(Arena *a);
void		arena_free(Arena *a);
void	   *arena_alloc(Arena *a, size_t n);	/* zeroed */
char	   *arena_strdup(Arena *a, const char *s);
char	   *arena_strndup(Arena *a, const char *s, size_t n);
/* Grows an array of elements of size elem from *n to *n + 1 (amortised); returns the new slot. */
void	   *arena_push(Arena *a, void **array, int *n, int *cap, size_t elem);

void	   *xmalloc(size_t n);
void	   *xrealloc(void *p, size_t n);
char	   *xstrdup(const char *s);

#endif
