package domain

import (
	"crypto/rand"
	"math/big"
)

// GeneratePassword returns a random 20-character password that always
// satisfies the password rule (one character of each class, shuffled).
func GeneratePassword() string {
	const (
		upper   = "ABCDEFGHJKLMNPQRSTUVWXYZ"
		lower   = "abcdefghijkmnopqrstuvwxyz"
		digits  = "23456789"
		special = "!#%*+-=?@^_"
		all     = upper + lower + digits + special
	)
	pick := func(set string) byte {
		n, err := rand.Int(rand.Reader, big.NewInt(int64(len(set))))
		if err != nil {
			panic("domain: no randomness: " + err.Error())
		}
		return set[n.Int64()]
	}
	b := []byte{pick(upper), pick(lower), pick(digits), pick(special)}
	for len(b) < 20 {
		b = append(b, pick(all))
	}
	for i := len(b) - 1; i > 0; i-- {
		n, _ := rand.Int(rand.Reader, big.NewInt(int64(i+1)))
		j := int(n.Int64())
		b[i], b[j] = b[j], b[i]
	}
	return string(b)
}
