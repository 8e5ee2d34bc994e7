package proxy

import (
	"io"
	"net/http"
	"time"
)

// AdminHandler serves the plain-HTTP admin API used by tests:
//
//	GET    /healthz   -> "ok"
//	GET    /requests  -> JSON array of Record (requests to apps.cozystack.io,
//	                     core.cozystack.io and /api/v1)
//	DELETE /requests  -> clear the log
//	GET    /faults    -> current Faults
//	POST   /faults    -> merge a partial Faults JSON, answer the result
func (p *Proxy) AdminHandler() http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("/healthz", func(w http.ResponseWriter, r *http.Request) {
		_, _ = io.WriteString(w, "ok")
	})
	mux.HandleFunc("/requests", func(w http.ResponseWriter, r *http.Request) {
		switch r.Method {
		case http.MethodGet:
			writeJSON(w, 200, p.Records())
		case http.MethodDelete:
			p.ClearRecords()
			w.WriteHeader(http.StatusNoContent)
		default:
			http.Error(w, "GET or DELETE", http.StatusMethodNotAllowed)
		}
	})
	mux.HandleFunc("/faults", func(w http.ResponseWriter, r *http.Request) {
		switch r.Method {
		case http.MethodGet:
			writeJSON(w, 200, p.faults.get())
		case http.MethodPost, http.MethodPut, http.MethodPatch:
			b, err := io.ReadAll(r.Body)
			if err != nil {
				http.Error(w, err.Error(), 400)
				return
			}
			f, err := p.faults.merge(b)
			if err != nil {
				http.Error(w, "invalid faults JSON: "+err.Error(), 400)
				return
			}
			if !f.NotFoundAfterCreate {
				p.mu.Lock()
				p.created = map[string]time.Time{}
				p.mu.Unlock()
			}
			writeJSON(w, 200, f)
		default:
			http.Error(w, "GET or POST", http.StatusMethodNotAllowed)
		}
	})
	return mux
}
