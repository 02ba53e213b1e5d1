//go:build !linux

package jail

import "errors"

// identity is only implemented on Linux, which has per-thread filesystem
// ids; elsewhere every call runs as the process.
type identity struct{}

func newIdentity(uid, gid int, groups []int) (*identity, error) {
	return nil, nil
}

func (id *identity) run(op func() error) error {
	return errors.New("jail: acting as the account is only supported on Linux")
}
