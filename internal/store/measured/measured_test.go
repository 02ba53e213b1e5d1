package measured_test

import (
	"errors"
	"reflect"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/panelftp/panelftp/internal/domain"
	"github.com/panelftp/panelftp/internal/store"
	"github.com/panelftp/panelftp/internal/store/measured"
	"github.com/panelftp/panelftp/internal/store/sqlstore"
	"github.com/panelftp/panelftp/internal/store/storetest"
)

type call struct {
	d   time.Duration
	err error
}

type recorder struct {
	mu    sync.Mutex
	calls map[string][]call
}

func (r *recorder) StoreCall(op string, d time.Duration, err error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.calls[op] = append(r.calls[op], call{d, err})
}

// TestConformanceThroughTheWrapper: measured changes nothing the suite
// can see, and reports every method of store.Store it calls.
func TestConformanceThroughTheWrapper(t *testing.T) {
	t.Parallel()
	rec := &recorder{calls: map[string][]call{}}
	storetest.Run(t, func(t *testing.T) store.Store {
		st, err := sqlstore.OpenSQLite(t.TempDir())
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { st.Close() })
		return measured.New(st, rec)
	})
	var missing []string
	iface := reflect.TypeFor[store.Store]()
	for m := range iface.Methods() {
		if m.Name != "Close" && len(rec.calls[m.Name]) == 0 {
			missing = append(missing, m.Name)
		}
	}
	if len(missing) > 0 {
		t.Errorf("no report of %v", missing)
	}
	notFound := slices.ContainsFunc(rec.calls["GetFTPUser"], func(c call) bool { return errors.Is(c.err, domain.ErrNotFound) })
	if !notFound {
		t.Error("GetFTPUser's NotFound refusals were not passed on")
	}
	for op, calls := range rec.calls {
		for _, c := range calls {
			if c.d <= 0 {
				t.Fatalf("%s reported a duration of %v", op, c.d)
			}
		}
	}
}
