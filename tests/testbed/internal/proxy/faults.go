package proxy

import (
	"encoding/json"
	"sync"
	"time"
)

// Faults is the runtime-switchable behaviour of the proxy. The JSON names are
// the admin API's (POST /faults takes any subset of them).
type Faults struct {
	// Quirks turns on Cozystack's error wrapping (409 -> 500) and the other
	// cozystack-api quirks except the two below, which have their own switch.
	Quirks bool `json:"quirks"`
	// NotFoundAfterCreate: the first GET of an object created in the last
	// second answers 404 once (informer cache not yet synced).
	NotFoundAfterCreate bool `json:"notfound_after_create"`
	// LWW: updates ignore resourceVersion, merge/JSON patches are applied to
	// a possibly stale cached copy and written back whole (Cozystack v1.5+).
	LWW bool `json:"lww"`
	// LWWCacheLagMS is how far the cached copy lags behind etcd.
	LWWCacheLagMS int `json:"lww_cache_lag_ms"`
	// Status500Next answers the next N resource requests with a 5xx.
	Status500Next int `json:"status500_next"`
	// StatusCode is the code used by Status500Next (default 500).
	StatusCode int `json:"status_code"`
	// LatencyMS is added before every resource request.
	LatencyMS int `json:"latency_ms"`
	// DropNext aborts the next N resource requests without an answer
	// (connection closed on HTTP/1.1, stream reset on HTTP/2).
	DropNext int `json:"drop_next"`
}

type faultState struct {
	mu sync.Mutex
	f  Faults
}

func (s *faultState) get() Faults {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.f
}

// merge applies a partial JSON document onto the current faults.
func (s *faultState) merge(b []byte) (Faults, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	f := s.f
	if err := json.Unmarshal(b, &f); err != nil {
		return s.f, err
	}
	s.f = f
	return f, nil
}

// action decides what to do with one resource request, consuming counters.
type action struct {
	latency time.Duration
	drop    bool
	status  int
}

func (s *faultState) take() action {
	s.mu.Lock()
	defer s.mu.Unlock()
	a := action{latency: time.Duration(s.f.LatencyMS) * time.Millisecond}
	if s.f.DropNext > 0 {
		s.f.DropNext--
		a.drop = true
		return a
	}
	if s.f.Status500Next > 0 {
		s.f.Status500Next--
		a.status = s.f.StatusCode
		if a.status == 0 {
			a.status = 500
		}
	}
	return a
}
