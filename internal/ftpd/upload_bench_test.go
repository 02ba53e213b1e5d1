package ftpd

import (
	"bytes"
	"fmt"
	"testing"
)

// BenchmarkSmallUpload uploads 4 KiB files over one control connection,
// in each upload mode, as bench's small-files scenario does:
//
//	go test -run '^$' -bench SmallUpload -benchtime 2000x ./internal/ftpd
func BenchmarkSmallUpload(b *testing.B) {
	content := bytes.Repeat([]byte("x"), 4<<10)
	for _, mode := range []UploadMode{UploadDirect, UploadAtomic} {
		b.Run(string(mode), func(b *testing.B) {
			e := newEnv(b, envOptions{quiet: true, cfg: Config{UploadMode: mode}})
			c := e.dial("")
			b.ResetTimer()
			for i := range b.N {
				if err := c.Stor(fmt.Sprintf("/f%d.txt", i), bytes.NewReader(content)); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
