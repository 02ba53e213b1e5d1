package defender

import (
	"net/netip"
	"sync"
	"time"
)

// failures is the table of failure scores: for each IP (IPv6 /64), the
// times of its failures still within the window. Its size is capped;
// trackers are kept on a list from the least to the most recently failing,
// so that both evicting the oldest and dropping the expired cost O(1) per
// failure.
type failures struct {
	max       int
	threshold int
	window    int64 // nanoseconds

	// mu guards the table; Defender.Failure holds it across its ban check
	// and the ban that reaching the threshold applies.
	mu         sync.Mutex
	byKey      map[netip.Prefix]*tracker
	head, tail *tracker // head failed least recently
	peak       int      // largest size since byKey was made
}

// tracker is one IP's score. times are nanoseconds since the Defender's
// epoch, oldest first; there are never more than threshold of them, since
// reaching it bans the IP and drops the tracker.
type tracker struct {
	key        netip.Prefix
	times      []int64
	prev, next *tracker
}

func newFailures(limit, threshold int, window time.Duration) *failures {
	return &failures{
		max:       limit,
		threshold: threshold,
		window:    int64(window),
		byKey:     map[netip.Prefix]*tracker{},
	}
}

// addLocked records a failure of key at now and returns how many failures
// key has within the window. When that reaches the threshold, reached is
// true and key's score starts again from zero. The caller holds f.mu.
func (f *failures) addLocked(key netip.Prefix, now int64) (n int, reached bool) {
	f.pruneLocked(now)
	t := f.byKey[key]
	if t == nil {
		if len(f.byKey) >= f.max {
			f.remove(f.head)
		}
		t = &tracker{key: key}
		f.byKey[key] = t
		f.peak = max(f.peak, len(f.byKey))
	} else {
		f.unlink(t)
	}
	f.pushBack(t)

	cut := now - f.window
	i := 0
	for i < len(t.times) && t.times[i] <= cut {
		i++
	}
	t.times = append(t.times[:copy(t.times, t.times[i:])], now)
	n = len(t.times)
	if n >= f.threshold {
		f.remove(t)
		return n, true
	}
	return n, false
}

// forget drops key's score.
func (f *failures) forget(key netip.Prefix) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.forgetLocked(key)
}

func (f *failures) forgetLocked(key netip.Prefix) {
	if t := f.byKey[key]; t != nil {
		f.remove(t)
	}
}

// prune drops the trackers whose last failure left the window.
func (f *failures) prune(now int64) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.pruneLocked(now)
}

func (f *failures) pruneLocked(now int64) {
	cut := now - f.window
	for f.head != nil && f.head.times[len(f.head.times)-1] <= cut {
		f.remove(f.head)
	}
	// A Go map keeps its memory after its entries are deleted: once a
	// flood is over, start a fresh one so that memory is returned.
	if len(f.byKey) == 0 && f.peak > 1024 {
		f.byKey = map[netip.Prefix]*tracker{}
		f.peak = 0
	}
}

// len is the number of IPs with a score.
func (f *failures) len() int {
	f.mu.Lock()
	defer f.mu.Unlock()
	return len(f.byKey)
}

func (f *failures) remove(t *tracker) {
	f.unlink(t)
	delete(f.byKey, t.key)
}

func (f *failures) unlink(t *tracker) {
	if t.prev != nil {
		t.prev.next = t.next
	} else {
		f.head = t.next
	}
	if t.next != nil {
		t.next.prev = t.prev
	} else {
		f.tail = t.prev
	}
	t.prev, t.next = nil, nil
}

func (f *failures) pushBack(t *tracker) {
	t.prev = f.tail
	if f.tail != nil {
		f.tail.next = t
	} else {
		f.head = t
	}
	f.tail = t
}
