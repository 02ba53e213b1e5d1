//go:build linux

package jail

import (
	"fmt"
	"os"
	"path/filepath"
	"testing"
)

// BenchmarkIdentity measures what acting as the account costs per call:
//
//	go test -run '^$' -bench Identity -benchmem ./internal/jail
//
// "process" runs as the server, "account" switches the thread's identity
// for each call (needs root).
func BenchmarkIdentity(b *testing.B) {
	for _, who := range []string{"process", "account"} {
		b.Run(who, func(b *testing.B) {
			if who == "account" {
				requireRoot(b)
			}
			l := newLayout(b)
			opts := defaultOpts
			if who == "account" {
				l.giveSite(b, testID, testID)
				opts.UID, opts.GID, opts.Groups = testID, testID, []int{testID + 1}
			}
			big := filepath.Join(l.site, "big")
			mustMkdir(b, big)
			for i := range 1000 {
				writeFile(b, filepath.Join(big, fmt.Sprintf("file-%04d.html", i)), "x")
			}
			j := l.newFs(b, opts)
			b.Run("open+close", func(b *testing.B) {
				for b.Loop() {
					f, err := j.Open("/index.html")
					if err != nil {
						b.Fatal(err)
					}
					f.Close()
				}
			})
			b.Run("stat", func(b *testing.B) {
				for b.Loop() {
					if _, err := j.Stat("/dir/nested.txt"); err != nil {
						b.Fatal(err)
					}
				}
			})
			b.Run("create+remove", func(b *testing.B) {
				for b.Loop() {
					f, err := j.OpenFile("/new.txt", os.O_WRONLY|os.O_CREATE|os.O_TRUNC, 0)
					if err != nil {
						b.Fatal(err)
					}
					f.Close()
					if err := j.Remove("/new.txt"); err != nil {
						b.Fatal(err)
					}
				}
			})
			b.Run("readdir-1000", func(b *testing.B) {
				for b.Loop() {
					list, err := j.ReadDir("/big")
					if err != nil || len(list) != 1000 {
						b.Fatal(len(list), err)
					}
				}
			})
		})
	}
}
