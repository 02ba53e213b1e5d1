package app

import (
	"net/http"
	"testing"
)

// TestPanelDeadlines: a panel request must arrive, headers and body, and
// its answer be read within bounded times, so that a client trickling
// bytes cannot hold a connection for ever.
func TestPanelDeadlines(t *testing.T) {
	srv := newPanelHTTPServer(http.NotFoundHandler())
	for name, d := range map[string]int64{
		"ReadHeaderTimeout": int64(srv.ReadHeaderTimeout),
		"ReadTimeout":       int64(srv.ReadTimeout),
		"WriteTimeout":      int64(srv.WriteTimeout),
		"IdleTimeout":       int64(srv.IdleTimeout),
	} {
		if d <= 0 {
			t.Errorf("%s is not set: a slow client could hold a connection for ever", name)
		}
	}
	if srv.ReadTimeout < srv.ReadHeaderTimeout {
		t.Errorf("ReadTimeout %v is shorter than ReadHeaderTimeout %v", srv.ReadTimeout, srv.ReadHeaderTimeout)
	}
}
