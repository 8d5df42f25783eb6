/*
 * route_lk.c — local search on an array tour: reversals with an undo log, Lin-Kernighan-style
 * chains of 2-opt moves, and Or-opt segment moves, driven by a queue of "don't-look" bits.
 * No PostgreSQL dependency.
 *
 * Every change to the tour is a reversal of a run of positions (the shorter of the run and its
 * complement), so any move can be undone by replaying the log backwards.  Moves are expressed
 * as tsp_move2(a, b, c, d): edges (a,b) and (c,d), with b following a and d following c in one
 * direction of the tour, become (a,c) and (b,d) — whichever way the array happens to run.
 */
#include "route_tour.h"

#define LK_DEPTH 8
#define GAIN_EPS 1e-7

static const int lk_breadth[LK_DEPTH] = {4, 2, 1, 1, 1, 1, 1, 1};

static void
reverse_raw(TspSearch *s, int i, int j)
{
	int			n = s->n;
	int			len = j - i;

	if (len < 0)
		len += n;
	for (int swaps = (len + 1) / 2; swaps > 0; swaps--)
	{
		int			a = s->tour[i];
		int			b = s->tour[j];

		s->tour[i] = b;
		s->pos[b] = i;
		s->tour[j] = a;
		s->pos[a] = j;
		if (++i == n)
			i = 0;
		if (--j < 0)
			j = n - 1;
	}
}

/* Reverse positions i..j (cyclic, inclusive), or the complement if that is shorter. */
static void
reverse_positions(TspSearch *s, int i, int j)
{
	int			n = s->n;
	int			len = j - i;

	if (len < 0)
		len += n;
	len++;
	if (len >= n || len <= 1)
		return;
	if (2 * len > n)
	{
		int			ni = (j + 1 == n) ? 0 : j + 1;
		int			nj = (i == 0) ? n - 1 : i - 1;

		i = ni;
		j = nj;
	}
	reverse_raw(s, i, j);
	s->log_i[s->log_len] = i;
	s->log_j[s->log_len] = j;
	s->log_len++;
}

void
tsp_move2(TspSearch *s, int a, int b, int c, int d)
{
	(void) d;
	if (tsp_succ(s, a) == b)
		reverse_positions(s, s->pos[b], s->pos[c]);
	else
		reverse_positions(s, s->pos[c], s->pos[b]);
}

void
tsp_undo_to(TspSearch *s, int mark)
{
	while (s->log_len > mark)
	{
		s->log_len--;
		reverse_raw(s, s->log_i[s->log_len], s->log_j[s->log_len]);
	}
}

void
tsp_push(TspSearch *s, int v)
{
	if (v < 0 || s->queued[v])
		return;
	s->queued[v] = true;
	s->queue[(s->qhead + s->qcount) % s->n] = v;
	s->qcount++;
}

static int
tsp_pop(TspSearch *s)
{
	int			v = s->queue[s->qhead];

	s->qhead = (s->qhead + 1) % s->n;
	s->qcount--;
	s->queued[v] = false;
	return v;
}

/* State of one Lin-Kernighan chain anchored at t1. */
typedef struct LkChain
{
	int			t1;
	double		best_gain;
	int			best_log;
	int			added[LK_DEPTH][2];		/* edges added so far (t2, t3) */
	int			removed[LK_DEPTH + 1][2];	/* edges removed so far */
	int			nadded;
	int			nremoved;
	int			touched[2 * LK_DEPTH + 2];
	int			ntouched;
} LkChain;

static bool
edge_in(const int (*edges)[2], int count, int a, int b)
{
	for (int i = 0; i < count; i++)
		if ((edges[i][0] == a && edges[i][1] == b) || (edges[i][0] == b && edges[i][1] == a))
			return true;
	return false;
}

typedef struct LkCandidate
{
	int			t3;
	int			t4;
	double		g1;				/* gain after adding (t2, t3) */
	double		score;			/* d(t3,t4) - d(t2,t3): what removing (t3,t4) brings */
} LkCandidate;

/*
 * One level of the chain: edge (t1, t2) is to be removed with cumulative gain G.  Try the best
 * few (t3, t4) closings, going deeper from each; stop as soon as a positive closed gain was seen.
 */
static bool
lk_deepen(TspSearch *s, LkChain *ch, int level, int t2, double G)
{
	LkCandidate best[5];
	int			nbest = 0;
	int			breadth = lk_breadth[level];
	int			t1 = ch->t1;
	bool		forward = tsp_succ(s, t1) == t2;
	int			t2succ = tsp_succ(s, t2);
	int			t2pred = tsp_pred(s, t2);
	const int  *cl = s->cand + (size_t) t2 * s->kcand;

	for (int c = 0; c < s->ncand[t2]; c++)
	{
		int			t3 = cl[c];
		int			t4;
		double		g1;
		LkCandidate cand;
		int			p;

		if (t3 == t1 || t3 == t2succ || t3 == t2pred)
			continue;
		g1 = G - tsp_d(s, t2, t3);
		if (g1 <= GAIN_EPS)
			continue;
		t4 = forward ? tsp_pred(s, t3) : tsp_succ(s, t3);
		if (t4 == t2 || edge_in(ch->added, ch->nadded, t3, t4) ||
			edge_in(ch->removed, ch->nremoved, t2, t3))
			continue;
		cand.t3 = t3;
		cand.t4 = t4;
		cand.g1 = g1;
		cand.score = tsp_d(s, t3, t4) - tsp_d(s, t2, t3);
		if (nbest == breadth && cand.score <= best[nbest - 1].score)
			continue;
		p = nbest < breadth ? nbest++ : breadth - 1;
		while (p > 0 && best[p - 1].score < cand.score)
		{
			best[p] = best[p - 1];
			p--;
		}
		best[p] = cand;
	}

	for (int b = 0; b < nbest; b++)
	{
		int			mark = s->log_len;
		int			t3 = best[b].t3;
		int			t4 = best[b].t4;
		double		g2 = best[b].g1 + tsp_d(s, t3, t4);
		double		closed = g2 - tsp_d(s, t4, t1);
		int			ntouched = ch->ntouched;

		tsp_tick(s);
		tsp_move2(s, t1, t2, t4, t3);
		ch->added[ch->nadded][0] = t2;
		ch->added[ch->nadded][1] = t3;
		ch->nadded++;
		ch->removed[ch->nremoved][0] = t3;
		ch->removed[ch->nremoved][1] = t4;
		ch->nremoved++;
		ch->touched[ch->ntouched++] = t3;
		ch->touched[ch->ntouched++] = t4;
		if (closed > ch->best_gain + GAIN_EPS)
		{
			ch->best_gain = closed;
			ch->best_log = s->log_len;
		}
		if (level + 1 < LK_DEPTH)
			lk_deepen(s, ch, level + 1, t4, g2);
		if (ch->best_gain > GAIN_EPS)
			return true;
		tsp_undo_to(s, mark);
		ch->nadded--;
		ch->nremoved--;
		ch->ntouched = ntouched;
	}
	return false;
}

/* Try a Lin-Kernighan chain from t1 in both directions; returns the gain applied. */
static double
lk_improve(TspSearch *s, int t1)
{
	for (int side = 0; side < 2; side++)
	{
		LkChain		ch;
		int			t2 = side == 0 ? tsp_succ(s, t1) : tsp_pred(s, t1);

		ch.t1 = t1;
		ch.best_gain = 0.0;
		ch.best_log = s->log_len;
		ch.nadded = 0;
		ch.nremoved = 1;
		ch.removed[0][0] = t1;
		ch.removed[0][1] = t2;
		ch.ntouched = 0;
		ch.touched[ch.ntouched++] = t2;
		if (lk_deepen(s, &ch, 0, t2, tsp_d(s, t1, t2)))
		{
			tsp_undo_to(s, ch.best_log);
			tsp_push(s, t1);
			for (int i = 0; i < ch.ntouched; i++)
				tsp_push(s, ch.touched[i]);
			return ch.best_gain;
		}
	}
	return 0.0;
}

/*
 * Or-opt: move the segment of 1-3 stops that starts at s1 (in either direction) next to one of
 * its candidate neighbours, reversed or not.  Applies the best improving move; returns its gain.
 */
static double
or_opt_improve(TspSearch *s, int s1)
{
	double		best_gain = GAIN_EPS;
	int			bp = -1, bs2 = -1, bnx = -1, bu = -1, bw = -1;
	bool		b3 = false;

	if (s->n < 8)
		return 0.0;
	for (int dir = 0; dir < 2; dir++)
	{
		int			s2 = s1;
		int			p = dir == 0 ? tsp_pred(s, s1) : tsp_succ(s, s1);

		for (int len = 1; len <= 3; len++)
		{
			int			nx = dir == 0 ? tsp_succ(s, s2) : tsp_pred(s, s2);
			double		g0 = tsp_d(s, p, s1) + tsp_d(s, s2, nx) - tsp_d(s, p, nx);

			if (len > 1)
			{
				s2 = nx;
				nx = dir == 0 ? tsp_succ(s, s2) : tsp_pred(s, s2);
				g0 = tsp_d(s, p, s1) + tsp_d(s, s2, nx) - tsp_d(s, p, nx);
			}
			if (g0 <= best_gain)
				continue;
			for (int end = 0; end < 2; end++)
			{
				int			a = end == 0 ? s1 : s2;		/* the stop that touches c */
				int			z = end == 0 ? s2 : s1;		/* the stop that touches d */
				const int  *cl = s->cand + (size_t) a * s->kcand;

				for (int k = 0; k < s->ncand[a]; k++)
				{
					int			c = cl[k];
					double		gc = g0 - tsp_d(s, c, a);

					if (gc <= best_gain)
						continue;
					for (int side = 0; side < 2; side++)
					{
						int			d = side == 0 ? tsp_succ(s, c) : tsp_pred(s, c);
						double		gain;
						bool		in_seg = false;
						int			v = s1;

						for (int i = 0; i < len; i++)
						{
							if (v == c || v == d)
								in_seg = true;
							v = dir == 0 ? tsp_succ(s, v) : tsp_pred(s, v);
						}
						if (in_seg || c == p || d == p)
							continue;
						gain = gc + tsp_d(s, c, d) - tsp_d(s, z, d);
						if (gain > best_gain)
						{
							/* u -> w is the insertion edge in the direction where p -> s1 */
							bool		c_first = (dir == 0) == (tsp_succ(s, c) == d);

							best_gain = gain;
							bp = p;
							bs2 = s2;
							bnx = nx;
							bu = c_first ? c : d;
							bw = c_first ? d : c;
							/* c next to s1 and u == c: keep orientation (3 moves) */
							b3 = (c_first == (a == s1));
						}
					}
				}
			}
		}
	}
	if (bp < 0)
		return 0.0;
	tsp_move2(s, bp, s1, bu, bw);
	tsp_move2(s, bp, bu, bnx, bs2);
	if (b3)
		tsp_move2(s, bu, bs2, s1, bw);
	tsp_push(s, bp);
	tsp_push(s, bnx);
	tsp_push(s, bu);
	tsp_push(s, bw);
	tsp_push(s, s1);
	tsp_push(s, bs2);
	return best_gain;
}

double
tsp_local_search(TspSearch *s, const double *deadline_ms)
{
	double		gain = 0.0;
	unsigned	pops = 0;

	while (s->qcount > 0)
	{
		int			t1 = tsp_pop(s);
		double		g;

		tsp_tick(s);
		if (deadline_ms && (++pops & 127) == 0 && route_clock_ms() > *deadline_ms)
			break;
		/* keep room to undo one chain; past that, moves made so far can no longer be undone */
		if (s->log_len > s->log_cap - 4 * LK_DEPTH)
		{
			s->log_len = 0;
			s->log_overflow = true;
		}
		g = lk_improve(s, t1);
		if (g <= 0.0)
			g = or_opt_improve(s, t1);
		gain += g;
	}
	return gain;
}
