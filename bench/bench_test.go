package main

import (
	"bytes"
	"context"
	"strings"
	"testing"
	"time"
)

// TestSmoke runs every scenario at tiny sizes against panelftp alone (the
// peers need root and Debian packages) and fails on any error, so the
// benchmark keeps working as panelftp changes.
func TestSmoke(t *testing.T) {
	if testing.Short() {
		t.Skip("builds panelftp and runs it: skipped with -short")
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Minute)
	defer cancel()
	var out, log bytes.Buffer
	err := run(ctx, []string{"-smoke", "-peers", "", "-timeout", "9m", "-op-timeout", "1m"}, &out, &log)
	t.Logf("progress:\n%s\ntable:\n%s", log.String(), out.String())
	if err != nil {
		t.Fatal(err)
	}
	for _, m := range metrics {
		if !strings.Contains(out.String(), m.title) {
			t.Errorf("the table has no row %q", m.title)
		}
	}
}

func TestScenarioOrder(t *testing.T) {
	got := scenarioOrder(map[int]bool{8: true, 1: true, 7: true, 3: true})
	want := []int{7, 1, 3, 8}
	if len(got) != len(want) {
		t.Fatalf("got %v, want %v", got, want)
	}
	for i := range want {
		if got[i] != want[i] {
			t.Fatalf("got %v, want %v", got, want)
		}
	}
}

func TestRatio(t *testing.T) {
	rate := metric{higher: true}
	lower := metric{higher: false}
	if v, _ := ratio(rate, &cell{value: 300}, &cell{value: 100}); v != 3 {
		t.Errorf("rate ratio = %v, want 3", v)
	}
	if v, _ := ratio(lower, &cell{value: 1}, &cell{value: 4}); v != 4 {
		t.Errorf("time ratio = %v, want 4", v)
	}
	if _, ok := ratio(rate, &cell{value: 1}, &cell{err: "failed"}); ok {
		t.Error("a failed figure gave a ratio")
	}
}

func TestParseOptions(t *testing.T) {
	var log bytes.Buffer
	if _, err := parseOptions([]string{"-peers", "ftpd"}, &log); err == nil {
		t.Error("unknown peer accepted")
	}
	if _, err := parseOptions([]string{"-scenarios", "10"}, &log); err == nil {
		t.Error("scenario 10 accepted")
	}
	o, err := parseOptions([]string{"-smoke", "-files", "7"}, &log)
	if err != nil {
		t.Fatal(err)
	}
	if o.files != 7 || o.size != 8<<20 {
		t.Errorf("smoke: files %d size %d; want the given 7 and the smoke size 8MiB", o.files, o.size)
	}
}
