// Package proxy is the test bed's public endpoint: a TLS reverse proxy in
// front of the real apiserver that reproduces what cozystack-api does
// differently from a CRD server (error wrapping, informer-cache 404s,
// last-writer-wins updates), serves core.cozystack.io options and the /apis
// group list, records requests and injects faults for tests.
package proxy

import (
	"bytes"
	"crypto/tls"
	"crypto/x509"
	"encoding/json"
	"fmt"
	"io"
	"log"
	"net/http"
	"net/http/httputil"
	"net/url"
	"regexp"
	"strings"
	"sync"
	"time"

	jsonpatch "gopkg.in/evanphx/json-patch.v4"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/client-go/dynamic"

	"github.com/hikube/terraform-provider-hikube/tests/testbed/internal/catalog"
	"github.com/hikube/terraform-provider-hikube/tests/testbed/internal/crds"
)

// Finalizer is put on every app at create (and kept on update) so that
// deletion is asynchronous; the simulator removes it.
const Finalizer = "testbed.cozystack.io/helm-uninstall"

// Config configures the proxy.
type Config struct {
	Profile     crds.Profile
	Upstream    string      // https URL of the real apiserver
	UpstreamTLS *tls.Config // CA + admin client cert (system:masters)
	Dynamic     dynamic.Interface
	ClientCAs   *x509.CertPool
	Token       string
	Catalog     *catalog.Catalog
	Faults      Faults
	Log         *log.Logger
}

// Record is one request seen by the proxy (admin API GET /requests).
type Record struct {
	Seq    int64  `json:"seq"`
	Time   string `json:"time"`
	Method string `json:"method"`
	Path   string `json:"path"`
	Query  string `json:"query"`
	Status int    `json:"status"`
	User   string `json:"user"`
}

// Proxy is the quirks proxy.
type Proxy struct {
	cfg      Config
	faults   faultState
	upstream *url.URL
	rp       *httputil.ReverseProxy
	client   *http.Client
	cache    *laggingCache

	mu      sync.Mutex
	seq     int64
	records []*Record
	created map[string]time.Time // objects for the 404-once quirk
}

// New builds the proxy. stop ends the background cache.
func New(cfg Config, stop <-chan struct{}) (*Proxy, error) {
	u, err := url.Parse(cfg.Upstream)
	if err != nil {
		return nil, err
	}
	tr := &http.Transport{TLSClientConfig: cfg.UpstreamTLS, ForceAttemptHTTP2: true, MaxIdleConnsPerHost: 64}
	p := &Proxy{cfg: cfg, upstream: u, created: map[string]time.Time{},
		client: &http.Client{Transport: tr}}
	p.faults.f = cfg.Faults
	if p.faults.f.LWWCacheLagMS == 0 {
		p.faults.f.LWWCacheLagMS = 75
	}
	p.rp = &httputil.ReverseProxy{
		Rewrite: func(r *httputil.ProxyRequest) {
			r.SetURL(u)
			r.Out.Host = u.Host
		},
		Transport:     tr,
		FlushInterval: -1,
		ErrorLog:      cfg.Log,
	}
	var plurals []string
	for _, k := range crds.Kinds(cfg.Profile) {
		plurals = append(plurals, k.Plural)
	}
	p.cache = newLaggingCache(cfg.Dynamic, crds.Group, crds.Version, plurals, func() time.Duration {
		return time.Duration(p.faults.get().LWWCacheLagMS) * time.Millisecond
	}, stop)
	return p, nil
}

// TLSConfig is the server side TLS config: the client certificate is
// optional (a bearer token is the other way in) but verified when sent.
func TLSConfig(cert tls.Certificate, cas *x509.CertPool) *tls.Config {
	return &tls.Config{
		Certificates: []tls.Certificate{cert},
		ClientCAs:    cas,
		ClientAuth:   tls.VerifyClientCertIfGiven,
		MinVersion:   tls.VersionTLS12,
		NextProtos:   []string{"h2", "http/1.1"},
	}
}

// ---- request log ----

type recorder struct {
	http.ResponseWriter
	rec   *Record
	mu    *sync.Mutex
	wrote bool
}

func (r *recorder) WriteHeader(code int) {
	if !r.wrote {
		r.wrote = true
		r.mu.Lock()
		r.rec.Status = code
		r.mu.Unlock()
	}
	r.ResponseWriter.WriteHeader(code)
}

func (r *recorder) Write(b []byte) (int, error) {
	if !r.wrote {
		r.WriteHeader(200)
	}
	return r.ResponseWriter.Write(b)
}

func (r *recorder) Flush() {
	if f, ok := r.ResponseWriter.(http.Flusher); ok {
		f.Flush()
	}
}

func (r *recorder) Unwrap() http.ResponseWriter { return r.ResponseWriter }

func logged(path string) bool {
	return strings.HasPrefix(path, "/apis/apps.cozystack.io/") || strings.HasPrefix(path, "/api/v1/") ||
		path == "/api/v1" || strings.HasPrefix(path, "/apis/core.cozystack.io/")
}

// faultable: resource requests only (not discovery documents).
func faultable(path string) bool {
	switch {
	case strings.HasPrefix(path, "/apis/apps.cozystack.io/v1alpha1/"),
		strings.HasPrefix(path, "/apis/core.cozystack.io/v1alpha1/"),
		strings.HasPrefix(path, "/api/v1/"):
		return true
	}
	return false
}

// Records returns a copy of the request log.
func (p *Proxy) Records() []Record {
	p.mu.Lock()
	defer p.mu.Unlock()
	out := make([]Record, 0, len(p.records))
	for _, r := range p.records {
		out = append(out, *r)
	}
	return out
}

// ClearRecords empties the request log (sequence numbers keep growing).
func (p *Proxy) ClearRecords() {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.records = nil
}

// ---- main handler ----

var appPath = regexp.MustCompile(`^/apis/apps\.cozystack\.io/v1alpha1/(?:namespaces/([^/]+)/)?([^/]+)(?:/([^/]+))?(?:/([^/]+))?$`)

func (p *Proxy) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	user, ok := p.authenticate(r)
	if !ok {
		writeStatus(w, http.StatusUnauthorized, "Unauthorized", "Unauthorized", nil)
		return
	}
	if logged(r.URL.Path) {
		p.mu.Lock()
		p.seq++
		rec := &Record{Seq: p.seq, Time: time.Now().UTC().Format(time.RFC3339Nano), Method: r.Method,
			Path: r.URL.Path, Query: r.URL.RawQuery, User: user}
		p.records = append(p.records, rec)
		p.mu.Unlock()
		w = &recorder{ResponseWriter: w, rec: rec, mu: &p.mu}
	}
	if faultable(r.URL.Path) {
		a := p.faults.take()
		if a.latency > 0 {
			time.Sleep(a.latency)
		}
		if a.drop {
			panic(http.ErrAbortHandler)
		}
		if a.status != 0 {
			writeStatus(w, a.status, "InternalError",
				fmt.Sprintf("Internal error occurred: testbed: injected fault (%d)", a.status), nil)
			return
		}
	}
	path := r.URL.Path
	switch {
	case path == "/apis" || path == "/apis/":
		p.serveGroupList(w, r)
		return
	case path == "/apis/core.cozystack.io" || strings.HasPrefix(path, "/apis/core.cozystack.io/"):
		p.serveOptions(w, r)
		return
	case path == "/apis/apps.cozystack.io/v1alpha1":
		p.serveAppDiscovery(w, r)
		return
	}
	if m := appPath.FindStringSubmatch(path); m != nil {
		ns, plural, name, sub := m[1], m[2], m[3], m[4]
		if kind, ok := crds.KindByPlural(p.cfg.Profile, plural); ok {
			if sub != "" {
				writeStatus(w, http.StatusNotFound, "NotFound", "the server could not find the requested resource", nil)
				return
			}
			p.serveApp(w, r, kind, ns, name)
			return
		}
	}
	p.rp.ServeHTTP(w, r)
}

// authenticate accepts a client certificate verified against the CA (TLS
// did that) or the static bearer token. The request is then forwarded with
// the proxy's own system:masters certificate, impersonating a certificate
// user, or carrying the bearer token on to the apiserver, which checks it
// again.
func (p *Proxy) authenticate(r *http.Request) (string, bool) {
	r.Header.Del("Impersonate-User")
	r.Header.Del("Impersonate-Group")
	r.Header.Del("Impersonate-Uid")
	if r.TLS != nil && len(r.TLS.PeerCertificates) > 0 {
		c := r.TLS.PeerCertificates[0]
		r.Header.Del("Authorization")
		r.Header.Set("Impersonate-User", c.Subject.CommonName)
		for _, g := range c.Subject.Organization {
			r.Header.Add("Impersonate-Group", g)
		}
		return c.Subject.CommonName, true
	}
	if tok, ok := strings.CutPrefix(r.Header.Get("Authorization"), "Bearer "); ok && tok == p.cfg.Token {
		return "token", true
	}
	return "", false
}

// ---- upstream calls ----

type upstreamResp struct {
	status int
	header http.Header
	body   []byte
}

func (p *Proxy) do(r *http.Request, method, path, query string, body []byte, contentType string) (*upstreamResp, error) {
	u := *p.upstream
	u.Path = path
	u.RawQuery = query
	var rd io.Reader
	if body != nil {
		rd = bytes.NewReader(body)
	}
	req, err := http.NewRequestWithContext(r.Context(), method, u.String(), rd)
	if err != nil {
		return nil, err
	}
	for _, h := range []string{"Authorization", "Impersonate-User", "Impersonate-Group", "User-Agent"} {
		for _, v := range r.Header.Values(h) {
			req.Header.Add(h, v)
		}
	}
	req.Header.Set("Accept", "application/json")
	if contentType != "" {
		req.Header.Set("Content-Type", contentType)
	}
	resp, err := p.client.Do(req)
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		return nil, err
	}
	return &upstreamResp{status: resp.StatusCode, header: resp.Header, body: b}, nil
}

func (p *Proxy) write(w http.ResponseWriter, u *upstreamResp) {
	for _, h := range []string{"Content-Type", "Audit-Id", "Warning"} {
		for _, v := range u.header.Values(h) {
			w.Header().Add(h, v)
		}
	}
	w.WriteHeader(u.status)
	_, _ = w.Write(u.body)
}

func writeJSON(w http.ResponseWriter, code int, v interface{}) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(code)
	_ = json.NewEncoder(w).Encode(v)
}

func writeStatus(w http.ResponseWriter, code int, reason, msg string, details map[string]interface{}) {
	st := map[string]interface{}{
		"kind": "Status", "apiVersion": "v1", "metadata": map[string]interface{}{},
		"status": "Failure", "message": msg, "reason": reason, "code": code,
	}
	if details != nil {
		st["details"] = details
	}
	writeJSON(w, code, st)
}

func statusMessage(body []byte) string {
	var st struct {
		Message string `json:"message"`
	}
	_ = json.Unmarshal(body, &st)
	return st.Message
}

// ---- apps.cozystack.io ----

var dns1035 = regexp.MustCompile(`^[a-z]([-a-z0-9]*[a-z0-9])?$`)

func (p *Proxy) serveApp(w http.ResponseWriter, r *http.Request, kind crds.Kind, ns, name string) {
	f := p.faults.get()
	watch := r.URL.Query().Get("watch")
	if r.Method == http.MethodGet && (name == "" || watch == "true" || watch == "1") {
		p.rp.ServeHTTP(w, r) // list and watch stream through
		return
	}
	if !f.Quirks && !f.LWW && !f.NotFoundAfterCreate {
		p.rp.ServeHTTP(w, r)
		return
	}
	hr := fmt.Sprintf("helmreleases.helm.toolkit.fluxcd.io %q", kind.Prefix+name)
	if r.Method != http.MethodGet && name != "" {
		p.takeCreated(kind.Plural, ns, name) // a write reached it: the cache has it
	}
	switch r.Method {
	case http.MethodGet:
		if f.NotFoundAfterCreate && p.takeCreated(kind.Plural, ns, name) {
			writeStatus(w, http.StatusNotFound, "NotFound",
				fmt.Sprintf("%s.%s %q not found", kind.Plural, crds.Group, name),
				map[string]interface{}{"name": name, "group": crds.Group, "kind": kind.Plural})
			return
		}
		p.rp.ServeHTTP(w, r)
	case http.MethodPost:
		body, err := io.ReadAll(r.Body)
		if err != nil {
			writeStatus(w, 400, "BadRequest", err.Error(), nil)
			return
		}
		obj := map[string]interface{}{}
		if err := json.Unmarshal(body, &obj); err != nil {
			writeStatus(w, 400, "BadRequest", "testbed proxy accepts JSON bodies only: "+err.Error(), nil)
			return
		}
		u := &unstructured.Unstructured{Object: obj}
		oname := u.GetName()
		if oname != "" {
			if !dns1035.MatchString(oname) || len(oname) > 63 {
				writeStatus(w, 422, "Invalid", fmt.Sprintf("%s.%s %q is invalid: metadata.name: Invalid value: %q: a DNS-1035 label must consist of lower case alphanumeric characters or '-', start with an alphabetic character, and end with an alphanumeric character", kind.Plural, crds.Group, oname, oname), nil)
				return
			}
			if p.cfg.Profile == crds.V1 && len(kind.Prefix+oname) > 53 {
				writeStatus(w, 422, "Invalid", fmt.Sprintf("%s.%s %q is invalid: metadata.name: Invalid value: %q: name is too long; the release name %q must be no more than 53 characters", kind.Plural, crds.Group, oname, oname, kind.Prefix+oname), nil)
				return
			}
		}
		p.mutate(u, kind)
		nb, _ := json.Marshal(u.Object)
		resp, err := p.do(r, http.MethodPost, r.URL.Path, r.URL.RawQuery, nb, "application/json")
		if err != nil {
			writeStatus(w, 502, "InternalError", err.Error(), nil)
			return
		}
		if resp.status == http.StatusConflict && f.Quirks {
			writeStatus(w, 500, "InternalError", fmt.Sprintf("Internal error occurred: failed to create HelmRelease: helmreleases.helm.toolkit.fluxcd.io %q already exists", kind.Prefix+oname), nil)
			return
		}
		if resp.status == http.StatusCreated && f.NotFoundAfterCreate {
			created := &unstructured.Unstructured{}
			if json.Unmarshal(resp.body, &created.Object) == nil {
				p.markCreated(kind.Plural, created.GetNamespace(), created.GetName())
			}
		}
		p.write(w, resp)
	case http.MethodPut:
		body, err := io.ReadAll(r.Body)
		if err != nil {
			writeStatus(w, 400, "BadRequest", err.Error(), nil)
			return
		}
		obj := map[string]interface{}{}
		if err := json.Unmarshal(body, &obj); err != nil {
			writeStatus(w, 400, "BadRequest", "testbed proxy accepts JSON bodies only: "+err.Error(), nil)
			return
		}
		p.update(w, r, kind, ns, name, &unstructured.Unstructured{Object: obj}, f, hr)
	case http.MethodPatch:
		ct := r.Header.Get("Content-Type")
		if f.LWW && (strings.HasPrefix(ct, "application/merge-patch+json") || strings.HasPrefix(ct, "application/json-patch+json")) {
			patch, err := io.ReadAll(r.Body)
			if err != nil {
				writeStatus(w, 400, "BadRequest", err.Error(), nil)
				return
			}
			base := p.cache.get(kind.Plural, ns, name) // possibly stale
			if base == nil {
				resp, err := p.do(r, http.MethodGet, r.URL.Path, "", nil, "")
				if err != nil || resp.status != 200 {
					if err == nil {
						p.write(w, resp)
					} else {
						writeStatus(w, 502, "InternalError", err.Error(), nil)
					}
					return
				}
				base = &unstructured.Unstructured{}
				_ = json.Unmarshal(resp.body, &base.Object)
			}
			orig, _ := json.Marshal(base.Object)
			var patched []byte
			if strings.HasPrefix(ct, "application/merge-patch+json") {
				patched, err = jsonpatch.MergePatch(orig, patch)
			} else {
				var jp jsonpatch.Patch
				jp, err = jsonpatch.DecodePatch(patch)
				if err == nil {
					patched, err = jp.Apply(orig)
				}
			}
			if err != nil {
				writeStatus(w, 422, "Invalid", "the patch could not be applied: "+err.Error(), nil)
				return
			}
			obj := map[string]interface{}{}
			if err := json.Unmarshal(patched, &obj); err != nil {
				writeStatus(w, 422, "Invalid", err.Error(), nil)
				return
			}
			p.update(w, r, kind, ns, name, &unstructured.Unstructured{Object: obj}, f, hr)
			return
		}
		body, err := io.ReadAll(r.Body)
		if err != nil {
			writeStatus(w, 400, "BadRequest", err.Error(), nil)
			return
		}
		resp, err := p.do(r, http.MethodPatch, r.URL.Path, r.URL.RawQuery, body, ct)
		if err != nil {
			writeStatus(w, 502, "InternalError", err.Error(), nil)
			return
		}
		if resp.status == http.StatusConflict && f.Quirks {
			p.conflict(w, hr)
			return
		}
		p.write(w, resp)
	default:
		p.rp.ServeHTTP(w, r)
	}
}

func (p *Proxy) conflict(w http.ResponseWriter, hr string) {
	writeStatus(w, 500, "InternalError", fmt.Sprintf("Internal error occurred: failed to update HelmRelease: Operation cannot be fulfilled on %s: the object has been modified; please apply your changes to the latest version and try again", hr), nil)
}

// update writes a full object. With LWW the resourceVersion sent (or left
// by a stale patch base) is replaced by the current one, retrying on
// conflict, as cozystack-api v1.5+ does.
func (p *Proxy) update(w http.ResponseWriter, r *http.Request, kind crds.Kind, ns, name string, u *unstructured.Unstructured, f Faults, hr string) {
	var resp *upstreamResp
	var err error
	for attempt := 0; attempt < 10; attempt++ {
		if f.LWW || u.GetFinalizers() == nil || len(u.GetFinalizers()) == 0 {
			cur, err := p.do(r, http.MethodGet, r.URL.Path, "", nil, "")
			if err != nil {
				writeStatus(w, 502, "InternalError", err.Error(), nil)
				return
			}
			if cur.status != 200 {
				p.write(w, cur)
				return
			}
			c := &unstructured.Unstructured{}
			_ = json.Unmarshal(cur.body, &c.Object)
			if f.LWW {
				u.SetResourceVersion(c.GetResourceVersion())
			}
			if c.GetDeletionTimestamp() == nil {
				p.mutate(u, kind)
			} else {
				u.SetFinalizers(c.GetFinalizers())
			}
		} else {
			p.mutate(u, kind)
		}
		body, _ := json.Marshal(u.Object)
		resp, err = p.do(r, http.MethodPut, r.URL.Path, r.URL.RawQuery, body, "application/json")
		if err != nil {
			writeStatus(w, 502, "InternalError", err.Error(), nil)
			return
		}
		if resp.status != http.StatusConflict || !f.LWW {
			break
		}
	}
	if resp.status == http.StatusConflict && f.Quirks {
		p.conflict(w, hr)
		return
	}
	p.write(w, resp)
}

// mutate applies the create/update-time defaulting the test bed does itself:
// the deletion finalizer, and (Kubernetes apps) Helm's merge of the chart's
// md0 node group into the user's map, which Cozystack up to v1.5 does.
func (p *Proxy) mutate(u *unstructured.Unstructured, kind crds.Kind) {
	fins := u.GetFinalizers()
	has := false
	for _, f := range fins {
		if f == Finalizer {
			has = true
		}
	}
	if !has && u.GetDeletionTimestamp() == nil {
		u.SetFinalizers(append(fins, Finalizer))
	}
	if kind.Kind == crds.Kubernetes.Kind {
		EnsureMD0(u.Object, p.cfg.Profile)
	}
}

// EnsureMD0 adds the chart's md0 node group when spec.nodeGroups lacks it.
// It reports whether it changed the object.
func EnsureMD0(obj map[string]interface{}, pr crds.Profile) bool {
	spec, _ := obj["spec"].(map[string]interface{})
	if spec == nil {
		spec = map[string]interface{}{}
		obj["spec"] = spec
	}
	ngs, _ := spec["nodeGroups"].(map[string]interface{})
	if ngs == nil {
		ngs = map[string]interface{}{}
		spec["nodeGroups"] = ngs
	}
	if _, ok := ngs["md0"]; ok {
		return false
	}
	ngs["md0"] = crds.DefaultNodeGroup(pr)
	return true
}

func (p *Proxy) markCreated(plural, ns, name string) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.created[cacheKey(plural, ns, name)] = time.Now()
}

func (p *Proxy) takeCreated(plural, ns, name string) bool {
	p.mu.Lock()
	defer p.mu.Unlock()
	k := cacheKey(plural, ns, name)
	t, ok := p.created[k]
	if !ok {
		return false
	}
	delete(p.created, k)
	return time.Since(t) < time.Second
}

// ---- discovery ----

func (p *Proxy) serveGroupList(w http.ResponseWriter, r *http.Request) {
	group := func(name, version string) map[string]interface{} {
		gv := map[string]interface{}{"groupVersion": name + "/" + version, "version": version}
		return map[string]interface{}{"name": name, "versions": []interface{}{gv}, "preferredVersion": gv}
	}
	writeJSON(w, 200, map[string]interface{}{
		"kind": "APIGroupList", "apiVersion": "v1",
		"groups": []interface{}{
			group("apiextensions.k8s.io", "v1"),
			group(crds.Group, crds.Version),
			group(optionsGroup, optionsVersion),
		},
	})
}

// serveAppDiscovery forwards the CRD server's resource list and removes the
// status subresources (Cozystack's aggregated API has none).
func (p *Proxy) serveAppDiscovery(w http.ResponseWriter, r *http.Request) {
	resp, err := p.do(r, http.MethodGet, r.URL.Path, "", nil, "")
	if err != nil {
		writeStatus(w, 502, "InternalError", err.Error(), nil)
		return
	}
	if resp.status != 200 {
		p.write(w, resp)
		return
	}
	var list map[string]interface{}
	if err := json.Unmarshal(resp.body, &list); err != nil {
		p.write(w, resp)
		return
	}
	res, _ := list["resources"].([]interface{})
	var kept []interface{}
	for _, x := range res {
		m, _ := x.(map[string]interface{})
		if n, _ := m["name"].(string); strings.Contains(n, "/") {
			continue
		}
		kept = append(kept, x)
	}
	list["resources"] = kept
	writeJSON(w, 200, list)
}
