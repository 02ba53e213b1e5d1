package harness

import (
	"bufio"
	"bytes"
	"context"
	"fmt"
	"io"
	"net/http"
	"os"
	"strconv"
	"strings"
	"time"
)

// Profiler reads the Go profiler of a server run with --debug-listen.
type Profiler struct{ Addr string }

// get fetches a page of the profiler within timeout.
func (p Profiler) get(ctx context.Context, path string, timeout time.Duration) ([]byte, error) {
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, "http://"+p.Addr+path, nil)
	if err != nil {
		return nil, err
	}
	// No keep-alive: the harness's own connection must not stay among
	// the server's descriptors, goroutines and memory.
	client := &http.Client{Transport: &http.Transport{DisableKeepAlives: true}}
	resp, err := client.Do(req)
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(io.LimitReader(resp.Body, 64<<20))
	if err == nil && resp.StatusCode != http.StatusOK {
		err = fmt.Errorf("GET %s: %s", path, resp.Status)
	}
	return b, err
}

// Save writes a profile of kind ("heap", "profile" for CPU…) to file; a
// CPU profile covers the next seconds.
func (p Profiler) Save(ctx context.Context, kind string, seconds int, file string) error {
	path := "/debug/pprof/" + kind
	if seconds > 0 {
		path += "?seconds=" + strconv.Itoa(seconds)
	}
	b, err := p.get(ctx, path, time.Duration(seconds+30)*time.Second)
	if err != nil {
		return err
	}
	return os.WriteFile(file, b, 0o644)
}

// Goroutines reads the goroutine count from the profile's first line,
// "goroutine profile: total N".
func (p Profiler) Goroutines(ctx context.Context) (int, error) {
	b, err := p.get(ctx, "/debug/pprof/goroutine?debug=1", 20*time.Second)
	if err != nil {
		return 0, err
	}
	first, _, _ := bytes.Cut(b, []byte("\n"))
	n, ok := strings.CutPrefix(string(first), "goroutine profile: total ")
	if !ok {
		return 0, fmt.Errorf("goroutine profile starts with %q", first)
	}
	return strconv.Atoi(strings.TrimSpace(n))
}

// HeapStats reads the runtime.MemStats lines ("# HeapInuse = 123") at
// the end of the heap profile; gc runs a collection in the server first.
func (p Profiler) HeapStats(ctx context.Context, gc bool) (map[string]int64, error) {
	path := "/debug/pprof/heap?debug=1"
	if gc {
		path += "&gc=1"
	}
	b, err := p.get(ctx, path, 20*time.Second)
	if err != nil {
		return nil, err
	}
	st := map[string]int64{}
	sc := bufio.NewScanner(bytes.NewReader(b))
	sc.Buffer(make([]byte, 64<<10), 4<<20)
	for sc.Scan() {
		k, v, ok := strings.Cut(strings.TrimPrefix(sc.Text(), "# "), " = ")
		if !ok {
			continue
		}
		if n, err := strconv.ParseInt(v, 10, 64); err == nil {
			st[k] = n
		}
	}
	if _, ok := st["HeapInuse"]; !ok {
		return nil, fmt.Errorf("heap profile without MemStats")
	}
	return st, nil
}
