/*
 * buf.c — growable byte buffers, SQL/JSON quoting helpers and a per-request arena (see buf.h).
 */
#include "buf.h"

#include <errno.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

void *
xmalloc(size_t n)
{
	void	   *p = malloc(n ? n : 1);

	if (p == NULL)
	{
		fputs("freight-api: out of memory\n", stderr);
		abort();
	}
	return p;
}

void *
xrealloc(void *p, size_t n)
{
	void	   *q = realloc(p, n ? n : 1);

	if (q == NULL)
	{
		fputs("freight-api: out of memory\n", stderr);
		abort();
	}
	return q;
}

char *
xstrdup(const char *s)
{
	size_t		n = strlen(s) + 1;

	return memcpy(xmalloc(n), s, n);
}

void
buf_init(Buf *b)
{
	b->cap = 256;
	b->len = 0;
	b->data = xmalloc(b->cap);
	b->data[0] = '\0';
}

void
buf_free(Buf *b)
{
	free(b->data);
	b->data = NULL;
	b->len = b->cap = 0;
}

void
buf_reset(Buf *b)
{
	b->len = 0;
	b->data[0] = '\0';
}

static void
buf_reserve(Buf *b, size_t extra)
{
	if (b->len + extra + 1 <= b->cap)
		return;
	while (b->len + extra + 1 > b->cap)
		b->cap *= 2;
	b->data = xrealloc(b->data, b->cap);
}

void
buf_add(Buf *b, const char *s, size_t n)
{
	buf_reserve(b, n);
	memcpy(b->data + b->len, s, n);
	b->len += n;
	b->data[b->len] = '\0';
}

void
buf_puts(Buf *b, const char *s)
{
	buf_add(b, s, strlen(s));
}

void
buf_putc(Buf *b, char c)
{
	buf_add(b, &c, 1);
}

void
buf_printf(Buf *b, const char *fmt,...)
{
	va_list		ap;
	int			n;

	va_start(ap, fmt);
	n = vsnprintf(NULL, 0, fmt, ap);
	va_end(ap);
	buf_reserve(b, (size_t) n);
	va_start(ap, fmt);
	vsnprintf(b->data + b->len, (size_t) n + 1, fmt, ap);
	va_end(ap);
	b->len += (size_t) n;
}

void
buf_ident(Buf *b, const char *s)
{
	buf_putc(b, '"');
	for (; *s; s++)
	{
		if (*s == '"')
			buf_putc(b, '"');
		buf_putc(b, *s);
	}
	buf_putc(b, '"');
}

void
buf_literal(Buf *b, const char *s)
{
	buf_putc(b, '\'');
	for (; *s; s++)
	{
		if (*s == '\'')
			buf_putc(b, '\'');
		buf_putc(b, *s);
	}
	buf_putc(b, '\'');
}

void
buf_json_escape(Buf *b, const char *s)
{
	while (*s)
	{
		size_t		plain = 0;
		unsigned char c;

		/* bytes that need no escape go in one piece */
		while ((c = (unsigned char) s[plain]) >= 0x20 && c != '"' && c != '\\')
			plain++;
		buf_add(b, s, plain);
		s += plain;
		switch (c)
		{
			case '\0':
				return;
			case '"':
				buf_puts(b, "\\\"");
				break;
			case '\\':
				buf_puts(b, "\\\\");
				break;
			case '\n':
				buf_puts(b, "\\n");
				break;
			case '\r':
				buf_puts(b, "\\r");
				break;
			case '\t':
				buf_puts(b, "\\t");
				break;
			default:
				buf_printf(b, "\\u%04x", c);
		}
		s++;
	}
}

char *
buf_steal(Buf *b)
{
	char	   *d = b->data;

	b->data = NULL;
	b->len = b->cap = 0;
	return d;
}

/* ---- arena ---- */

struct ArenaBlock
{
	ArenaBlock *next;
	size_t		used;
	size_t		size;
	max_align_t data[];
};

#define ARENA_BLOCK 8192

void
arena_init(Arena *a)
{
	a->head = NULL;
}

void
arena_free(Arena *a)
{
	while (a->head)
	{
		ArenaBlock *next = a->head->next;

		free(a->head);
		a->head = next;
	}
}

void *
arena_alloc(Arena *a, size_t n)
{
	ArenaBlock *blk = a->head;
	void	   *p;

	n = (n + sizeof(max_align_t) - 1) & ~(sizeof(max_align_t) - 1);
	if (blk == NULL || blk->used + n > blk->size)
	{
		size_t		size = n > ARENA_BLOCK ? n : ARENA_BLOCK;

		blk = xmalloc(sizeof(ArenaBlock) + size);
		blk->size = size;
		blk->used = 0;
		blk->next = a->head;
		a->head = blk;
	}
	p = (char *) blk->data + blk->used;
	blk->used += n;
	memset(p, 0, n);
	return p;
}

int
buf_read_file(Buf *b, const char *path, size_t max)
{
	FILE	   *f = fopen(path, "rb");
	char		chunk[4096];
	size_t		n;
	int			rc = 0;

	if (f == NULL)
		return errno;
	while (rc == 0 && (n = fread(chunk, 1, sizeof(chunk), f)) > 0)
	{
		buf_add(b, chunk, n);
		if (b->len > max)
			rc = EFBIG;
	}
	if (rc == 0 && ferror(f))
		rc = EIO;
	fclose(f);
	return rc;
}

char *
arena_strndup(Arena *a, const char *s, size_t n)
{
	char	   *p = arena_alloc(a, n + 1);

	memcpy(p, s, n);
	p[n] = '\0';
	return p;
}

char *
arena_strdup(Arena *a, const char *s)
{
	return arena_strndup(a, s, strlen(s));
}

void *
arena_push(Arena *a, void **array, int *n, int *cap, size_t elem)
{
	if (*n == *cap)
	{
		int			ncap = *cap ? *cap * 2 : 4;
		void	   *na = arena_alloc(a, elem * (size_t) ncap);

		if (*n)
			memcpy(na, *array, elem * (size_t) *n);
		*array = na;
		*cap = ncap;
	}
	return (char *) *array + elem * (size_t) (*n)++;
}
