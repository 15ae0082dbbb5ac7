package credential

import (
	"sync"
	"time"
)

// CacheSize is the most entries one Cache holds.
const CacheSize = 10_000

// Cache keeps values read from the database for a short, bounded time and a bounded number of
// entries, so that a request that only re-checks what an earlier one verified (a credential, a
// token's subject) need not read it again. A nil *Cache keeps nothing: every Get misses.
//
// Only what was read successfully is kept; a failed read is never put. Invalidation is safe
// against a read that raced it: a value read before an invalidation (Delete, Clear) finished is
// not put after it, because Put takes the Ticket taken before the read and drops the value when an
// invalidation came in between.
type Cache[K comparable, V any] struct {
	ttl  time.Duration
	size int
	now  func() time.Time

	mu      sync.Mutex
	gen     uint64 // bumped by every invalidation
	entries map[K]cacheEntry[V]
}

type cacheEntry[V any] struct {
	v       V
	expires time.Time
}

// Ticket is what a read that may fill a Cache takes before it reads (Cache.Ticket).
type Ticket uint64

// NewCache returns a cache whose entries live ttl by the clock now (time.Now when nil) and that
// holds at most size entries; nil, which keeps nothing, when ttl or size is not positive.
func NewCache[K comparable, V any](ttl time.Duration, size int, now func() time.Time) *Cache[K, V] {
	if ttl <= 0 || size <= 0 {
		return nil
	}
	if now == nil {
		now = time.Now
	}
	return &Cache[K, V]{ttl: ttl, size: size, now: now, entries: map[K]cacheEntry[V]{}}
}

// Get returns the value kept for k, if it has not expired.
func (c *Cache[K, V]) Get(k K) (V, bool) {
	var zero V
	if c == nil {
		return zero, false
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	e, ok := c.entries[k]
	if !ok {
		return zero, false
	}
	if !c.now().Before(e.expires) {
		delete(c.entries, k)
		return zero, false
	}
	return e.v, true
}

// Ticket is taken before reading a value that Put may keep.
func (c *Cache[K, V]) Ticket() Ticket {
	if c == nil {
		return 0
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	return Ticket(c.gen)
}

// Put keeps v for k, read after t was taken, unless an invalidation came since. When the cache is
// full, expired entries go first, then an arbitrary one.
func (c *Cache[K, V]) Put(t Ticket, k K, v V) {
	if c == nil {
		return
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if Ticket(c.gen) != t {
		return
	}
	now := c.now()
	if _, ok := c.entries[k]; !ok && len(c.entries) >= c.size {
		for key, e := range c.entries {
			if !now.Before(e.expires) {
				delete(c.entries, key)
			}
		}
		for key := range c.entries {
			if len(c.entries) < c.size {
				break
			}
			delete(c.entries, key)
		}
	}
	c.entries[k] = cacheEntry[V]{v: v, expires: now.Add(c.ttl)}
}

// Delete forgets k, and drops the values of reads in flight.
func (c *Cache[K, V]) Delete(k K) {
	if c == nil {
		return
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	c.gen++
	delete(c.entries, k)
}

// Clear forgets everything, and drops the values of reads in flight.
func (c *Cache[K, V]) Clear() {
	if c == nil {
		return
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	c.gen++
	clear(c.entries)
}

// Len is the number of entries kept, expired or not.
func (c *Cache[K, V]) Len() int {
	if c == nil {
		return 0
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	return len(c.entries)
}
