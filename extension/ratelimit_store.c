/*
 * ratelimit_store.c — the rate limiter's table of keys in shared memory.
 *
 * A fixed-capacity shared hash table (freight.rate_limit_capacity entries, sized at postmaster
 * start) maps a key to its GCRA state and the tier parameters it was last resolved to.  The table
 * is split into RATE_LIMIT_PARTITIONS lock partitions (named LWLock tranche "freight_ratelimit"),
 * so backends deciding for different keys rarely wait for each other.  A decision for a known key
 * takes its partition lock in shared mode plus the entry's spinlock; creating an entry, changing
 * its parameters and the janitor's whole-table passes take partition locks exclusively.
 *
 * Tier parameters are cached in the entry together with the "generation" they were resolved
 * under.  Changing a tier or an override bumps the generation (at commit, see ratelimit.c), so the
 * next decision for every key re-resolves its tier: changes apply live.
 *
 * Lock order for whole-table passes (snapshot, sweep): all partitions in index order.
 */
#include "postgres.h"

#include "miscadmin.h"
#include "port/atomics.h"
#include "storage/ipc.h"
#include "storage/lwlock.h"
#include "storage/shmem.h"
#include "storage/spin.h"
#include "utils/hsearch.h"

#include "ratelimit.h"

#define RATE_LIMIT_PARTITIONS	64
#define RATE_LIMIT_TRANCHE		"freight_ratelimit"

/* Seconds between two "table full" security events. */
#define RATE_LIMIT_FULL_REPORT_US	(10 * USECS_PER_SEC)

typedef struct RateLimitEntry
{
	char		key[RATE_LIMIT_KEY_MAX + 1];	/* hash key: must be first */
	int64		tat;
	int64		last_seen;
	uint64		generation;		/* generation params were resolved under; 0 = no params yet */
	GcraParams	params;
	int32		denied;
	int64		last_denied;
	slock_t		mutex;			/* guards the fields above under a shared partition lock */
} RateLimitEntry;

typedef struct RateLimitShared
{
	pg_atomic_uint64 generation;
	pg_atomic_uint32 entries;
	pg_atomic_uint32 restored;
	pg_atomic_uint64 last_full_report;
} RateLimitShared;

static RateLimitShared *rl_shared;
static HTAB *rl_table;
static LWLockPadded *rl_locks;

static shmem_request_hook_type prev_shmem_request_hook;
static shmem_startup_hook_type prev_shmem_startup_hook;

static void
rate_limit_shmem_request(void)
{
	if (prev_shmem_request_hook)
		prev_shmem_request_hook();
	RequestAddinShmemSpace(MAXALIGN(sizeof(RateLimitShared)) +
						   hash_estimate_size(rate_limit_capacity, sizeof(RateLimitEntry)));
	RequestNamedLWLockTranche(RATE_LIMIT_TRANCHE, RATE_LIMIT_PARTITIONS);
}

static void
rate_limit_shmem_startup(void)
{
	HASHCTL		info;
	bool		found;

	if (prev_shmem_startup_hook)
		prev_shmem_startup_hook();

	LWLockAcquire(AddinShmemInitLock, LW_EXCLUSIVE);
	rl_shared = ShmemInitStruct("freight rate limit state", sizeof(RateLimitShared), &found);
	if (!found)
	{
		pg_atomic_init_u64(&rl_shared->generation, 1);
		pg_atomic_init_u32(&rl_shared->entries, 0);
		pg_atomic_init_u32(&rl_shared->restored, 0);
		pg_atomic_init_u64(&rl_shared->last_full_report, 0);
	}
	info.keysize = RATE_LIMIT_KEY_MAX + 1;
	info.entrysize = sizeof(RateLimitEntry);
	info.num_partitions = RATE_LIMIT_PARTITIONS;
	rl_table = ShmemInitHash("freight rate limit keys", rate_limit_capacity, rate_limit_capacity,
							 &info, HASH_ELEM | HASH_STRINGS | HASH_PARTITION);
	rl_locks = GetNamedLWLockTranche(RATE_LIMIT_TRANCHE);
	LWLockRelease(AddinShmemInitLock);
}

void
rate_limit_store_init(void)
{
	prev_shmem_request_hook = shmem_request_hook;
	shmem_request_hook = rate_limit_shmem_request;
	prev_shmem_startup_hook = shmem_startup_hook;
	shmem_startup_hook = rate_limit_shmem_startup;
}

bool
rate_limit_store_ready(void)
{
	return rl_table != NULL;
}

uint64
rate_limit_generation(void)
{
	return pg_atomic_read_u64(&rl_shared->generation);
}

void
rate_limit_bump_generation(void)
{
	pg_atomic_fetch_add_u64(&rl_shared->generation, 1);
}

bool
rate_limit_store_is_restored(void)
{
	return pg_atomic_read_u32(&rl_shared->restored) != 0;
}

void
rate_limit_store_set_restored(void)
{
	pg_atomic_write_u32(&rl_shared->restored, 1);
}

/* True for one caller per RATE_LIMIT_FULL_REPORT_US: the one that should report "table full". */
bool
rate_limit_store_claim_full_report(TimestampTz now)
{
	uint64		last = pg_atomic_read_u64(&rl_shared->last_full_report);

	if ((int64) last + RATE_LIMIT_FULL_REPORT_US > now)
		return false;
	return pg_atomic_compare_exchange_u64(&rl_shared->last_full_report, &last, (uint64) now);
}

/* Insert a fresh entry for key; NULL when the table is at capacity. Partition lock held. */
static RateLimitEntry *
rate_limit_entry_create(const char *key, uint32 hash)
{
	RateLimitEntry *entry;
	bool		found;

	if (pg_atomic_fetch_add_u32(&rl_shared->entries, 1) >= (uint32) rate_limit_capacity)
	{
		pg_atomic_fetch_sub_u32(&rl_shared->entries, 1);
		return NULL;
	}
	entry = hash_search_with_hash_value(rl_table, key, hash, HASH_ENTER_NULL, &found);
	if (entry == NULL)
	{
		pg_atomic_fetch_sub_u32(&rl_shared->entries, 1);
		return NULL;
	}
	Assert(!found);
	entry->tat = 0;
	entry->last_seen = 0;
	entry->generation = 0;
	entry->denied = 0;
	entry->last_denied = 0;
	SpinLockInit(&entry->mutex);
	return entry;
}

/* Decide with the entry's cached parameters; the caller makes the entry its own (see decide). */
static RateLimitOutcome
rate_limit_entry_decide(RateLimitEntry *entry, int32 cost, TimestampTz now, GcraParams *params,
						GcraDecision *decision)
{
	*params = entry->params;
	if (cost > entry->params.burst)
		return RATE_LIMIT_COST_TOO_HIGH;
	gcra_decide(&entry->params, &entry->tat, now, cost, decision);
	entry->last_seen = now;
	if (!decision->allowed)
	{
		entry->denied++;
		entry->last_denied = now;
	}
	return RATE_LIMIT_DECIDED;
}

/*
 * Decide a request for key.  Without fresh params (NULL) a key that is new or whose cached tier
 * is stale gets RATE_LIMIT_NEED_PARAMS; the caller resolves the tier (outside any lock) and calls
 * again with them and the generation it read before resolving.
 */
RateLimitOutcome
rate_limit_store_decide(const char *key, int32 cost, TimestampTz now, const GcraParams *fresh,
						uint64 fresh_generation, GcraParams *params, GcraDecision *decision)
{
	uint32		hash = get_hash_value(rl_table, key);
	LWLock	   *lock = &rl_locks[hash % RATE_LIMIT_PARTITIONS].lock;
	RateLimitEntry *entry;
	RateLimitOutcome outcome = RATE_LIMIT_DECIDED;

	/*
	 * Fast path, a known key with current parameters: the partition lock in shared mode and the
	 * entry's spinlock, so backends deciding for one hot key hold each other up for nanoseconds
	 * and never sleep on the lock.
	 */
	LWLockAcquire(lock, LW_SHARED);
	entry = hash_search_with_hash_value(rl_table, key, hash, HASH_FIND, NULL);
	if (entry != NULL && entry->generation == rate_limit_generation())
	{
		SpinLockAcquire(&entry->mutex);
		outcome = rate_limit_entry_decide(entry, cost, now, params, decision);
		SpinLockRelease(&entry->mutex);
		LWLockRelease(lock);
		return outcome;
	}
	LWLockRelease(lock);
	if (fresh == NULL)
		return RATE_LIMIT_NEED_PARAMS;

	/* Slow path: create the entry or install new parameters, with the partition to ourselves. */
	LWLockAcquire(lock, LW_EXCLUSIVE);
	entry = hash_search_with_hash_value(rl_table, key, hash, HASH_FIND, NULL);
	if (entry == NULL || entry->generation != rate_limit_generation())
	{
		if (cost > fresh->burst)
		{
			*params = *fresh;
			outcome = RATE_LIMIT_COST_TOO_HIGH;
		}
		else if (entry == NULL && (entry = rate_limit_entry_create(key, hash)) == NULL)
			outcome = RATE_LIMIT_FULL;
		else
		{
			gcra_rescale(entry->generation != 0 ? &entry->params : NULL, fresh, &entry->tat, now);
			entry->params = *fresh;
			entry->generation = fresh_generation;
		}
	}
	if (outcome == RATE_LIMIT_DECIDED)
		outcome = rate_limit_entry_decide(entry, cost, now, params, decision);
	LWLockRelease(lock);
	return outcome;
}

/*
 * Put back a key's TAT saved before a restart (keeping the later one if the key is already in
 * use).  Its tier is resolved on its next decision.  False when the table is full.
 */
bool
rate_limit_store_restore(const char *key, TimestampTz tat)
{
	uint32		hash = get_hash_value(rl_table, key);
	LWLock	   *lock = &rl_locks[hash % RATE_LIMIT_PARTITIONS].lock;
	RateLimitEntry *entry;

	LWLockAcquire(lock, LW_EXCLUSIVE);
	entry = hash_search_with_hash_value(rl_table, key, hash, HASH_FIND, NULL);
	if (entry == NULL)
		entry = rate_limit_entry_create(key, hash);
	if (entry != NULL)
	{
		entry->tat = Max(entry->tat, tat);
		entry->last_seen = Max(entry->last_seen, tat);
	}
	LWLockRelease(lock);
	return entry != NULL;
}

static void
rate_limit_lock_all(LWLockMode mode)
{
	for (int i = 0; i < RATE_LIMIT_PARTITIONS; i++)
		LWLockAcquire(&rl_locks[i].lock, mode);
}

static void
rate_limit_unlock_all(void)
{
	for (int i = RATE_LIMIT_PARTITIONS - 1; i >= 0; i--)
		LWLockRelease(&rl_locks[i].lock);
}

static void
rate_limit_copy_state(RateLimitKeyState *state, const RateLimitEntry *entry)
{
	strlcpy(state->key, entry->key, sizeof(state->key));
	state->tat = entry->tat;
	state->last_seen = entry->last_seen;
	state->denied = entry->denied;
	state->last_denied = entry->last_denied;
}

/*
 * Room for a copy of every key's state, with all partitions locked (so no key is added while
 * copying).  Sized by the keys there are, not the capacity: 10 million keys' worth is 1.7 GB,
 * beyond palloc's limit, and a few keys should not cost that much.
 */
static RateLimitKeyState *
rate_limit_states_alloc(void)
{
	long		keys = hash_get_num_entries(rl_table);

	return palloc_extended(sizeof(RateLimitKeyState) * (keys + 1), MCXT_ALLOC_HUGE);
}

/* Copy of every key's state (palloc'd in the current context); returns the count. */
int
rate_limit_store_snapshot(RateLimitKeyState **states)
{
	HASH_SEQ_STATUS scan;
	RateLimitEntry *entry;
	int			n = 0;

	rate_limit_lock_all(LW_SHARED);
	*states = rate_limit_states_alloc();
	hash_seq_init(&scan, rl_table);
	while ((entry = hash_seq_search(&scan)) != NULL)
	{
		SpinLockAcquire(&entry->mutex);
		rate_limit_copy_state(&(*states)[n++], entry);
		SpinLockRelease(&entry->mutex);
	}
	rate_limit_unlock_all();
	return n;
}

/*
 * The janitor's pass: returns the keys worth keeping across a restart (TAT in the future) or with
 * denials since the last sweep (whose counters are reset), and forgets keys idle for idle_us whose
 * budget is full again — forgetting those changes no later decision.
 */
int
rate_limit_store_sweep(TimestampTz now, int64 idle_us, RateLimitKeyState **states, int *nexpired)
{
	HASH_SEQ_STATUS scan;
	RateLimitEntry *entry;
	int			n = 0;

	*nexpired = 0;
	rate_limit_lock_all(LW_EXCLUSIVE);
	*states = rate_limit_states_alloc();
	hash_seq_init(&scan, rl_table);
	while ((entry = hash_seq_search(&scan)) != NULL)
	{
		if (entry->tat > now || entry->denied > 0)
		{
			rate_limit_copy_state(&(*states)[n++], entry);
			entry->denied = 0;
		}
		else if (entry->last_seen + idle_us < now)
		{
			hash_search(rl_table, entry->key, HASH_REMOVE, NULL);
			pg_atomic_fetch_sub_u32(&rl_shared->entries, 1);
			(*nexpired)++;
		}
	}
	rate_limit_unlock_all();
	return n;
}
