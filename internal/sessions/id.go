package sessions

import (
	"crypto/rand"
	"encoding/base32"
	"encoding/binary"
	"encoding/hex"
	"os"
	"strings"
	"time"
)

// idEncoding is base32 with an alphabet in ASCII order, so IDs sort like
// the bytes they encode, and without letters easily confused when read
// aloud or typed (i, l, o, u).
var idEncoding = base32.NewEncoding("0123456789abcdefghjkmnpqrstvwxyz").WithPadding(base32.NoPadding)

// newID returns 26 characters encoding 16 bytes: 6 bytes of milliseconds
// since 1970, then 10 random bytes. IDs sort by creation time and two
// processes cannot realistically collide.
func newID(now time.Time) string {
	var b [16]byte
	var ms [8]byte
	binary.BigEndian.PutUint64(ms[:], uint64(now.UnixMilli()))
	copy(b[:6], ms[2:])
	_, _ = rand.Read(b[6:]) // crypto/rand.Read never fails
	return idEncoding.EncodeToString(b[:])
}

// NodeID names this process among the nodes sharing a store: the host name
// and a random suffix, new at every start, so the sessions a crashed
// process left behind expire with its heartbeat instead of being mistaken
// for this one's.
func NodeID() string {
	host, err := os.Hostname()
	if err != nil || host == "" {
		host = "node"
	}
	if i := strings.IndexByte(host, '.'); i > 0 {
		host = host[:i]
	}
	var suffix [4]byte
	_, _ = rand.Read(suffix[:])
	return host + "-" + hex.EncodeToString(suffix[:])
}
