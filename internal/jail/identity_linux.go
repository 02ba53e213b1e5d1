//go:build linux

package jail

import (
	"errors"
	"fmt"
	"runtime"
	"slices"

	"golang.org/x/sys/unix"
)

// identity is who the kernel checks a filesystem call against: the
// account's uid, gid and groups, set on one OS thread for one call.
//
// The filesystem ids (setfsuid(2), setfsgid(2)) and the supplementary
// groups are per thread on Linux, so they are changed with the raw system
// calls of golang.org/x/sys/unix, never with syscall.Setuid or
// syscall.Setgroups, which Go applies to every thread of the process.
// The goroutine stays locked to its thread while the ids are the
// account's, so no other goroutine ever runs with them. Changing the
// fsuid from 0 drops CAP_DAC_OVERRIDE, CAP_FOWNER and the other file
// capabilities of that thread (capabilities(7)); setting it back to 0
// restores them.
type identity struct {
	uid, gid int
	groups   []int
	// server is the process's own ids and groups, restored after each call.
	serverUID, serverGID int
	serverGroups         []int
}

// errIdentity means the thread could not be given back the server's
// ids. It stays locked to its goroutine, and ends with it.
var errIdentity = errors.New("jail: cannot restore the server's filesystem identity")

// newIdentity returns the identity of uid/gid/groups, or nil when the
// process is not root: then every call runs as the process, as before.
func newIdentity(uid, gid int, groups []int) (*identity, error) {
	if unix.Geteuid() != 0 {
		return nil, nil
	}
	server, err := unix.Getgroups()
	if err != nil {
		return nil, fmt.Errorf("jail: reading the server's groups: %w", err)
	}
	return &identity{
		uid: uid, gid: gid, groups: withGID(groups, gid),
		serverUID: unix.Geteuid(), serverGID: unix.Getegid(), serverGroups: server,
	}, nil
}

// withGID returns groups with gid first and without repeats, so that the
// kernel checks gid as a group of the account even when the group
// database does not list it.
func withGID(groups []int, gid int) []int {
	out := []int{gid}
	for _, g := range groups {
		if g >= 0 && !slices.Contains(out, g) {
			out = append(out, g)
		}
	}
	return out
}

// run calls op on a locked OS thread carrying the account's identity.
// When restoring the server's identity fails, the thread is not unlocked:
// Go then ends it with its goroutine instead of reusing it.
func (id *identity) run(op func() error) error {
	runtime.LockOSThread()
	err := id.enter()
	if err == nil {
		err = op()
	}
	if id.leave() != nil {
		return errIdentity
	}
	runtime.UnlockOSThread()
	return err
}

// enter gives the thread the account's groups, fsgid and fsuid, in that
// order: groups and gid first, while the thread still has its
// capabilities. setfsuid and setfsgid return the previous id, not an
// error; calling them again with -1 (never valid) reads the id in force.
func (id *identity) enter() error {
	if err := unix.Setgroups(id.groups); err != nil {
		return fmt.Errorf("jail: setgroups: %w", err)
	}
	unix.SetfsgidRetGid(id.gid)
	if g, _ := unix.SetfsgidRetGid(-1); g != id.gid {
		return fmt.Errorf("jail: setfsgid(%d) did not take effect", id.gid)
	}
	unix.SetfsuidRetUid(id.uid)
	if u, _ := unix.SetfsuidRetUid(-1); u != id.uid {
		return fmt.Errorf("jail: setfsuid(%d) did not take effect", id.uid)
	}
	return nil
}

// leave gives the thread back the server's ids and groups: fsuid first,
// which brings back the capabilities needed for the rest.
func (id *identity) leave() error {
	unix.SetfsuidRetUid(id.serverUID)
	if u, _ := unix.SetfsuidRetUid(-1); u != id.serverUID {
		return errIdentity
	}
	unix.SetfsgidRetGid(id.serverGID)
	if g, _ := unix.SetfsgidRetGid(-1); g != id.serverGID {
		return errIdentity
	}
	if err := unix.Setgroups(id.serverGroups); err != nil {
		return errIdentity
	}
	return nil
}
