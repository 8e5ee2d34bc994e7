package main

// These tests start the real testbed binary (built once) in two profiles
// and talk to it through its public endpoint and admin API, as the
// provider's acceptance tests do.

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/client-go/rest"
	"k8s.io/client-go/tools/clientcmd"
)

type bed struct {
	dir   string
	cmd   *exec.Cmd
	url   string
	admin string
	http  *http.Client // admin client cert
	tok   *http.Client // no client cert (bearer token added by hand)
	token string
}

var beds = map[string]*bed{}

func TestMain(m *testing.M) {
	tmp, err := os.MkdirTemp("", "testbed-test-")
	if err != nil {
		panic(err)
	}
	bin := os.Getenv("TESTBED_BIN")
	if bin == "" {
		bin = filepath.Join(tmp, "testbed")
		out, err := exec.Command("go", "build", "-o", bin, ".").CombinedOutput()
		if err != nil {
			fmt.Fprintf(os.Stderr, "go build failed: %v\n%s", err, out)
			os.Exit(1)
		}
	}
	code := func() int {
		var wg sync.WaitGroup
		var mu sync.Mutex
		var startErr error
		for _, p := range []string{"v0", "v1"} {
			wg.Add(1)
			go func(p string) {
				defer wg.Done()
				b, err := startBed(bin, filepath.Join(tmp, p), p)
				mu.Lock()
				defer mu.Unlock()
				if err != nil {
					startErr = err
				}
				if b != nil {
					beds[p] = b
				}
			}(p)
		}
		wg.Wait()
		defer func() {
			for _, b := range beds {
				b.stop()
			}
		}()
		if startErr != nil {
			fmt.Fprintln(os.Stderr, startErr)
			return 1
		}
		return m.Run()
	}()
	os.RemoveAll(tmp)
	os.Exit(code)
}

func startBed(bin, dir, profile string) (*bed, error) {
	logf, err := os.Create(dir + ".log")
	if err != nil {
		return nil, err
	}
	cmd := exec.Command(bin, "--dir", dir, "--profile", profile, "--ready-delay", "200ms", "--delete-delay", "400ms")
	cmd.Stdout, cmd.Stderr = logf, logf
	// The test bed dies with the test binary, even if it is killed.
	cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGTERM}
	if err := cmd.Start(); err != nil {
		return nil, err
	}
	b := &bed{dir: dir, cmd: cmd}
	deadline := time.Now().Add(60 * time.Second)
	for {
		if _, err := os.Stat(filepath.Join(dir, "ready")); err == nil {
			break
		}
		if time.Now().After(deadline) {
			b.stop()
			log, _ := os.ReadFile(dir + ".log")
			return nil, fmt.Errorf("testbed %s not ready in 60s:\n%s", profile, log)
		}
		time.Sleep(50 * time.Millisecond)
	}
	admin, _ := os.ReadFile(filepath.Join(dir, "admin-url"))
	b.admin = strings.TrimSpace(string(admin))
	tok, _ := os.ReadFile(filepath.Join(dir, "token"))
	b.token = strings.TrimSpace(string(tok))
	cfg, err := clientcmd.BuildConfigFromFlags("", filepath.Join(dir, "kubeconfig"))
	if err != nil {
		return nil, err
	}
	b.url = cfg.Host
	if b.http, err = rest.HTTPClientFor(cfg); err != nil {
		return nil, err
	}
	tc := rest.CopyConfig(cfg)
	tc.CertData, tc.KeyData = nil, nil
	if b.tok, err = rest.HTTPClientFor(tc); err != nil {
		return nil, err
	}
	return b, nil
}

func (b *bed) stop() {
	if b.cmd.Process != nil {
		_ = b.cmd.Process.Signal(syscall.SIGTERM)
		done := make(chan struct{})
		go func() { _ = b.cmd.Wait(); close(done) }()
		select {
		case <-done:
		case <-time.After(20 * time.Second):
			_ = b.cmd.Process.Kill()
		}
	}
}

type resp struct {
	code int
	body []byte
	obj  map[string]interface{}
}

func (r resp) str(path ...string) string {
	v, _, _ := unstructured.NestedFieldNoCopy(r.obj, path...)
	if v == nil {
		return ""
	}
	if s, ok := v.(string); ok {
		return s
	}
	b, _ := json.Marshal(v)
	return string(b)
}

func (b *bed) do(t *testing.T, method, path string, body interface{}, ct ...string) resp {
	t.Helper()
	var rd io.Reader
	if body != nil {
		switch v := body.(type) {
		case string:
			rd = strings.NewReader(v)
		default:
			j, _ := json.Marshal(v)
			rd = bytes.NewReader(j)
		}
	}
	req, _ := http.NewRequest(method, b.url+path, rd)
	req.Header.Set("Accept", "application/json")
	if body != nil {
		c := "application/json"
		if len(ct) > 0 {
			c = ct[0]
		}
		req.Header.Set("Content-Type", c)
	}
	res, err := b.http.Do(req)
	if err != nil {
		t.Fatalf("%s %s: %v", method, path, err)
	}
	defer res.Body.Close()
	out, _ := io.ReadAll(res.Body)
	r := resp{code: res.StatusCode, body: out}
	_ = json.Unmarshal(out, &r.obj)
	return r
}

func (b *bed) adminDo(t *testing.T, method, path, body string) []byte {
	t.Helper()
	req, _ := http.NewRequest(method, b.admin+path, strings.NewReader(body))
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	out, _ := io.ReadAll(res.Body)
	if res.StatusCode >= 300 {
		t.Fatalf("admin %s %s: %d %s", method, path, res.StatusCode, out)
	}
	return out
}

func (b *bed) faults(t *testing.T, js string) {
	t.Helper()
	b.adminDo(t, http.MethodPost, "/faults", js)
}

func app(kind, name string, spec map[string]interface{}) map[string]interface{} {
	return map[string]interface{}{"apiVersion": "apps.cozystack.io/v1alpha1", "kind": kind,
		"metadata": map[string]interface{}{"name": name}, "spec": spec}
}

const ns = "/apis/apps.cozystack.io/v1alpha1/namespaces/tenant-root/"

// create posts an app and consumes the 404-once quirk with one GET.
func (b *bed) create(t *testing.T, plural string, obj map[string]interface{}) resp {
	t.Helper()
	r := b.do(t, "POST", ns+plural, obj)
	if r.code != 201 {
		t.Fatalf("create %s: %d %s", plural, r.code, r.body)
	}
	b.get(t, plural, r.str("metadata", "name"))
	return r
}

func (b *bed) get(t *testing.T, plural, name string) resp {
	return b.do(t, "GET", ns+plural+"/"+name, nil)
}

// eventually polls f until it returns "" (success) or times out.
func eventually(t *testing.T, timeout time.Duration, f func() string) {
	t.Helper()
	deadline := time.Now().Add(timeout)
	var last string
	for time.Now().Before(deadline) {
		if last = f(); last == "" {
			return
		}
		time.Sleep(50 * time.Millisecond)
	}
	t.Fatalf("timed out after %s: %s", timeout, last)
}

func ready(r resp) (status, msg string) {
	conds, _, _ := unstructured.NestedSlice(r.obj, "status", "conditions")
	for _, c := range conds {
		m := c.(map[string]interface{})
		if m["type"] == "Ready" {
			return fmt.Sprint(m["status"]), fmt.Sprint(m["message"])
		}
	}
	return "", ""
}

func waitReady(t *testing.T, b *bed, plural, name, want string) string {
	t.Helper()
	var msg string
	eventually(t, 10*time.Second, func() string {
		r := b.get(t, plural, name)
		var st string
		st, msg = ready(r)
		if st != want {
			return fmt.Sprintf("Ready=%q (%s), want %q", st, msg, want)
		}
		return ""
	})
	return msg
}

func resourceNames(t *testing.T, b *bed) []string {
	r := b.do(t, "GET", "/apis/apps.cozystack.io/v1alpha1", nil)
	var names []string
	res, _ := r.obj["resources"].([]interface{})
	for _, x := range res {
		names = append(names, x.(map[string]interface{})["name"].(string))
	}
	return names
}

func TestDiscoveryPerProfile(t *testing.T) {
	if got := strings.Join(resourceNames(t, beds["v1"]), ","); got != "vminstances,vmdisks,kuberneteses" && !sameSet(got, "vminstances,vmdisks,kuberneteses") {
		t.Errorf("v1 discovery: %s", got)
	}
	if got := strings.Join(resourceNames(t, beds["v0"]), ","); !sameSet(got, "virtualmachines,vminstances,vmdisks,kuberneteses") {
		t.Errorf("v0 discovery: %s", got)
	}
	r := beds["v1"].do(t, "GET", "/apis", nil)
	if !strings.Contains(string(r.body), `"core.cozystack.io"`) || !strings.Contains(string(r.body), `"apps.cozystack.io"`) {
		t.Errorf("/apis: %s", r.body)
	}
	r = beds["v1"].do(t, "GET", "/apis/core.cozystack.io/v1alpha1", nil)
	if !strings.Contains(string(r.body), `"options"`) {
		t.Errorf("core.cozystack.io discovery: %s", r.body)
	}
}

func sameSet(a, b string) bool {
	m := map[string]int{}
	for _, x := range strings.Split(a, ",") {
		m[x]++
	}
	for _, x := range strings.Split(b, ",") {
		m[x]--
	}
	for _, v := range m {
		if v != 0 {
			return false
		}
	}
	return true
}

func TestDefaultsV1(t *testing.T) {
	b := beds["v1"]
	r := b.create(t, "vminstances", app("VMInstance", "def-vm", map[string]interface{}{
		"gpus": []interface{}{map[string]interface{}{"name": "nvidia.com/AD102GL_L40S"}}}))
	for path, want := range map[string]string{
		"spec.instanceType": "u1.medium", "spec.instanceProfile": "ubuntu", "spec.runStrategy": "Always",
		"spec.externalMethod": "PortList", "spec.externalPorts": "[22]", "spec.external": "false",
		"spec.externalAllowICMP": "true", "spec.disks": "[]", "spec.resources": "{}",
	} {
		if got := r.str(strings.Split(path, ".")...); got != want {
			t.Errorf("%s = %q, want %q", path, got, want)
		}
	}
	k := b.create(t, "kuberneteses", app("Kubernetes", "def-k8s", map[string]interface{}{
		"nodeGroups": map[string]interface{}{"gpu": map[string]interface{}{"maxReplicas": 3}}}))
	for path, want := range map[string]string{
		"spec.version": "v1.35", "spec.controlPlane.replicas": "2", "spec.storageClass": "replicated",
		"spec.nodeGroups.gpu.minReplicas": "0", "spec.nodeGroups.gpu.maxReplicas": "3",
		"spec.nodeGroups.gpu.instanceType": "u1.medium", "spec.nodeGroups.gpu.diskSize": "20Gi",
		"spec.nodeGroups.gpu.resources": "{}", "spec.nodeGroups.gpu.ephemeralStorage": "",
		"spec.nodeGroups.md0.roles": `["ingress-nginx"]`,
	} {
		if got := k.str(strings.Split(path, ".")...); got != want {
			t.Errorf("%s = %q, want %q", path, got, want)
		}
	}
	// Unknown fields are kept, as Cozystack stores the values as sent.
	d := b.create(t, "vmdisks", app("VMDisk", "def-disk", map[string]interface{}{
		"source": map[string]interface{}{"image": map[string]interface{}{"name": "ubuntu"}}, "extra": "kept"}))
	if d.str("spec", "storage") != "5Gi" || d.str("spec", "extra") != "kept" || d.str("spec", "optical") != "false" {
		t.Errorf("vmdisk defaults: %s", d.body)
	}
	waitReady(t, b, "vminstances", "def-vm", "True")
	if r := b.get(t, "vminstances", "def-vm"); r.str("status", "version") == "" {
		t.Errorf("no status.version: %s", r.body)
	}
}

func TestDefaultsV0(t *testing.T) {
	b := beds["v0"]
	r := b.create(t, "virtualmachines", app("VirtualMachine", "def-vm", map[string]interface{}{}))
	for path, want := range map[string]string{
		"spec.running": "true", "spec.systemDisk.storage": "5Gi", "spec.systemDisk.image": "ubuntu",
		"spec.systemDisk.storageClass": "replicated", "spec.instanceType": "u1.medium", "spec.gpus": "[]",
	} {
		if got := r.str(strings.Split(path, ".")...); got != want {
			t.Errorf("%s = %q, want %q", path, got, want)
		}
	}
	k := b.create(t, "kuberneteses", app("Kubernetes", "def-k8s", map[string]interface{}{
		"nodeGroups": map[string]interface{}{"gpu": map[string]interface{}{}}}))
	if k.str("spec", "nodeGroups", "gpu", "ephemeralStorage") != "20Gi" || k.str("spec", "version") != "v1.33" ||
		k.str("spec", "nodeGroups", "md0", "instanceType") != "u1.medium" {
		t.Errorf("v0 kubernetes defaults: %s", k.body)
	}
}

func TestQuirkAlreadyExistsIs500(t *testing.T) {
	b := beds["v1"]
	obj := app("VMDisk", "dup", map[string]interface{}{})
	b.create(t, "vmdisks", obj)
	r := b.do(t, "POST", ns+"vmdisks", obj)
	if r.code != 500 || !strings.Contains(r.str("message"), `"vm-disk-dup" already exists`) {
		t.Fatalf("got %d %s", r.code, r.body)
	}
}

func TestQuirkNotFoundOnceAfterCreate(t *testing.T) {
	b := beds["v1"]
	if r := b.do(t, "POST", ns+"vmdisks", app("VMDisk", "nf-once", map[string]interface{}{})); r.code != 201 {
		t.Fatalf("create: %d", r.code)
	}
	if r := b.get(t, "vmdisks", "nf-once"); r.code != 404 {
		t.Fatalf("first GET: %d", r.code)
	}
	if r := b.get(t, "vmdisks", "nf-once"); r.code != 200 {
		t.Fatalf("second GET: %d", r.code)
	}
	b.faults(t, `{"notfound_after_create": false}`)
	defer b.faults(t, `{"notfound_after_create": true}`)
	b.create(t, "vmdisks", app("VMDisk", "nf-off", map[string]interface{}{}))
	if r := b.get(t, "vmdisks", "nf-off"); r.code != 200 {
		t.Fatalf("GET with quirk off: %d", r.code)
	}
}

func TestQuirkConflictIs500(t *testing.T) {
	b := beds["v1"]
	r := b.create(t, "vmdisks", app("VMDisk", "conflict", map[string]interface{}{}))
	stale := r.obj
	// The simulator writes status right after a create, so a fresh read may
	// itself be stale by the time it is PUT back: re-read until one lands.
	var fresh resp
	for i := 0; i < 20; i++ {
		cur := b.get(t, "vmdisks", "conflict")
		if cur.code != 200 {
			time.Sleep(100 * time.Millisecond)
			continue
		}
		_ = unstructured.SetNestedField(cur.obj, "20Gi", "spec", "storage")
		if fresh = b.do(t, "PUT", ns+"vmdisks/conflict", cur.obj); fresh.code == 200 {
			break
		}
		time.Sleep(100 * time.Millisecond)
	}
	if fresh.code != 200 {
		t.Fatalf("fresh PUT: %d %s", fresh.code, fresh.body)
	}
	_ = unstructured.SetNestedField(stale, "30Gi", "spec", "storage")
	u := b.do(t, "PUT", ns+"vmdisks/conflict", stale)
	if u.code != 500 || !strings.Contains(u.str("message"), "the object has been modified") ||
		!strings.Contains(u.str("message"), `"vm-disk-conflict"`) {
		t.Fatalf("stale PUT: %d %s", u.code, u.body)
	}
	// With --lww (Cozystack v1.5+) the same stale PUT wins.
	b.faults(t, `{"lww": true}`)
	defer b.faults(t, `{"lww": false}`)
	u = b.do(t, "PUT", ns+"vmdisks/conflict", stale)
	if u.code != 200 || u.str("spec", "storage") != "30Gi" {
		t.Fatalf("stale PUT with lww: %d %s", u.code, u.body)
	}
}

// Two merge patches to different node groups, sent at once, as two
// Terraform resources would: with lww one of them is lost.
func TestLWWMergePatchLosesConcurrentWrite(t *testing.T) {
	b := beds["v1"]
	// A generous lag keeps the race certain even on a loaded CI machine.
	b.faults(t, `{"lww": true, "lww_cache_lag_ms": 400}`)
	defer b.faults(t, `{"lww": false, "lww_cache_lag_ms": 75}`)
	lost := 0
	const rounds = 3
	for i := 0; i < rounds; i++ {
		name := fmt.Sprintf("lww-%d", i)
		b.create(t, "kuberneteses", app("Kubernetes", name, map[string]interface{}{}))
		time.Sleep(600 * time.Millisecond) // let the cache catch up with the create
		var wg sync.WaitGroup
		for _, g := range []string{"a", "b"} {
			wg.Add(1)
			go func(g string) {
				defer wg.Done()
				patch := fmt.Sprintf(`{"spec":{"nodeGroups":{"%s":{"maxReplicas":2}}}}`, g)
				if r := b.do(t, "PATCH", ns+"kuberneteses/"+name, patch, "application/merge-patch+json"); r.code != 200 {
					t.Errorf("patch %s: %d %s", g, r.code, r.body)
				}
			}(g)
		}
		wg.Wait()
		r := b.get(t, "kuberneteses", name)
		ngs, _, _ := unstructured.NestedMap(r.obj, "spec", "nodeGroups")
		_, hasA := ngs["a"]
		_, hasB := ngs["b"]
		if !(hasA && hasB) {
			lost++
		}
		if !hasA && !hasB {
			t.Errorf("both writes lost: %s", r.body)
		}
	}
	if lost != rounds {
		t.Fatalf("expected a lost write in every round with lww, got %d/%d", lost, rounds)
	}
	// Without lww the apiserver merges both.
	b.faults(t, `{"lww": false}`)
	b.create(t, "kuberneteses", app("Kubernetes", "nolww", map[string]interface{}{}))
	var wg sync.WaitGroup
	for _, g := range []string{"a", "b"} {
		wg.Add(1)
		go func(g string) {
			defer wg.Done()
			patch := fmt.Sprintf(`{"spec":{"nodeGroups":{"%s":{"maxReplicas":2}}}}`, g)
			b.do(t, "PATCH", ns+"kuberneteses/nolww", patch, "application/merge-patch+json")
		}(g)
	}
	wg.Wait()
	r := b.get(t, "kuberneteses", "nolww")
	ngs, _, _ := unstructured.NestedMap(r.obj, "spec", "nodeGroups")
	if _, ok := ngs["a"]; !ok {
		t.Errorf("without lww, a lost: %s", r.body)
	}
	if _, ok := ngs["b"]; !ok {
		t.Errorf("without lww, b lost: %s", r.body)
	}
}

func TestAsyncDeletion(t *testing.T) {
	b := beds["v1"]
	b.create(t, "vmdisks", app("VMDisk", "to-delete", map[string]interface{}{}))
	d := b.do(t, "DELETE", ns+"vmdisks/to-delete", nil)
	if d.code != 200 && d.code != 202 {
		t.Fatalf("delete: %d %s", d.code, d.body)
	}
	r := b.get(t, "vmdisks", "to-delete")
	if r.code != 200 || r.str("metadata", "deletionTimestamp") == "" {
		t.Fatalf("after DELETE the app must still be visible with a deletionTimestamp: %d %s", r.code, r.body)
	}
	eventually(t, 10*time.Second, func() string {
		if c := b.get(t, "vmdisks", "to-delete").code; c != 404 {
			return fmt.Sprintf("still %d", c)
		}
		return ""
	})
}

func TestExternalVMService(t *testing.T) {
	b := beds["v1"]
	b.create(t, "vminstances", app("VMInstance", "ext", map[string]interface{}{
		"external": true, "externalPorts": []interface{}{22, 8888}}))
	svc := "/api/v1/namespaces/tenant-root/services/vm-instance-ext"
	var ip string
	eventually(t, 10*time.Second, func() string {
		r := b.do(t, "GET", svc, nil)
		if r.code != 200 {
			return fmt.Sprintf("service: %d", r.code)
		}
		ing, _, _ := unstructured.NestedSlice(r.obj, "status", "loadBalancer", "ingress")
		if len(ing) == 0 {
			return "no ingress"
		}
		ip = fmt.Sprint(ing[0].(map[string]interface{})["ip"])
		if r.str("spec", "type") != "LoadBalancer" {
			return "type " + r.str("spec", "type")
		}
		return ""
	})
	if !strings.HasPrefix(ip, "192.0.2.") {
		t.Fatalf("ingress ip %q", ip)
	}
	// external: false removes the Service.
	p := b.do(t, "PATCH", ns+"vminstances/ext", `{"spec":{"external":false}}`, "application/merge-patch+json")
	if p.code != 200 {
		t.Fatalf("patch: %d %s", p.code, p.body)
	}
	eventually(t, 10*time.Second, func() string {
		if c := b.do(t, "GET", svc, nil).code; c != 404 {
			return fmt.Sprintf("service still there: %d", c)
		}
		return ""
	})
	// v0 VirtualMachine: Service virtual-machine-<name>.
	v0 := beds["v0"]
	v0.create(t, "virtualmachines", app("VirtualMachine", "ext", map[string]interface{}{"external": true}))
	eventually(t, 10*time.Second, func() string {
		if c := v0.do(t, "GET", "/api/v1/namespaces/tenant-root/services/virtual-machine-ext", nil).code; c != 200 {
			return fmt.Sprintf("v0 service: %d", c)
		}
		return ""
	})
	// Deleting the VM removes its Service.
	v0.do(t, "DELETE", "/apis/apps.cozystack.io/v1alpha1/namespaces/tenant-root/virtualmachines/ext", nil)
	eventually(t, 10*time.Second, func() string {
		if c := v0.do(t, "GET", "/api/v1/namespaces/tenant-root/services/virtual-machine-ext", nil).code; c != 404 {
			return fmt.Sprintf("v0 service still there: %d", c)
		}
		return ""
	})
}

func TestReadyFalseOnChartErrors(t *testing.T) {
	b := beds["v1"]
	b.create(t, "vminstances", app("VMInstance", "bad-type", map[string]interface{}{"instanceType": "u1.huge"}))
	b.create(t, "vminstances", app("VMInstance", "bad-gpu", map[string]interface{}{
		"gpus": []interface{}{map[string]interface{}{"name": "nvidia.com/L40S"}}}))
	b.create(t, "vminstances", app("VMInstance", "no-disk", map[string]interface{}{
		"disks": []interface{}{map[string]interface{}{"name": "later"}}}))
	b.create(t, "kuberneteses", app("Kubernetes", "bad-ng", map[string]interface{}{
		"nodeGroups": map[string]interface{}{"g": map[string]interface{}{"minReplicas": 5, "maxReplicas": 2}}}))
	for name, want := range map[string]string{
		"bad-type": `VirtualMachineClusterInstancetype "u1.huge" not found`,
		"bad-gpu":  `GPU "nvidia.com/L40S" is not offered`,
		"no-disk":  `VMDisk "later" not found`,
	} {
		if msg := waitReady(t, b, "vminstances", name, "False"); !strings.Contains(msg, want) {
			t.Errorf("%s: message %q lacks %q", name, msg, want)
		}
	}
	if msg := waitReady(t, b, "kuberneteses", "bad-ng", "False"); !strings.Contains(msg, "nodeGroups.g.minReplicas (5) is greater than maxReplicas (2)") {
		t.Errorf("bad-ng: %q", msg)
	}
	// The missing disk appears: the instance becomes Ready.
	b.create(t, "vmdisks", app("VMDisk", "later", map[string]interface{}{}))
	waitReady(t, b, "vminstances", "no-disk", "True")
}

func TestOptions(t *testing.T) {
	b := beds["v1"]
	r := b.do(t, "GET", "/apis/core.cozystack.io/v1alpha1/namespaces/tenant-root/options/gpu", nil)
	if r.code != 200 || r.str("kind") != "Option" || !strings.Contains(string(r.body), `"nvidia.com/AD102GL_L40S"`) ||
		!strings.Contains(string(r.body), `available on node`) {
		t.Fatalf("options/gpu: %d %s", r.code, r.body)
	}
	r = b.do(t, "GET", "/apis/core.cozystack.io/v1alpha1/namespaces/tenant-root/options/instancetype", nil)
	if r.code != 200 || !strings.Contains(string(r.body), `"u1.2xlarge"`) {
		t.Fatalf("options/instancetype: %d %s", r.code, r.body)
	}
	if r := b.do(t, "POST", "/apis/core.cozystack.io/v1alpha1/namespaces/tenant-root/options", "{}"); r.code != 405 {
		t.Fatalf("options are read-only, got %d", r.code)
	}
}

func TestAdminRequestsAndFaults(t *testing.T) {
	b := beds["v0"]
	b.adminDo(t, "DELETE", "/requests", "")
	b.faults(t, `{"status500_next": 2}`)
	for i, want := range []int{500, 500, 404} {
		if c := b.get(t, "vmdisks", "nope").code; c != want {
			t.Fatalf("request %d: %d, want %d", i, c, want)
		}
	}
	b.faults(t, `{"status500_next": 1, "status_code": 503}`)
	if c := b.get(t, "vmdisks", "nope").code; c != 503 {
		t.Fatalf("want 503, got %d", c)
	}
	b.faults(t, `{"status_code": 500, "drop_next": 1}`)
	req, _ := http.NewRequest("GET", b.url+ns+"vmdisks/nope", nil)
	if res, err := b.http.Do(req); err == nil {
		res.Body.Close()
		t.Fatalf("dropped request answered %d", res.StatusCode)
	}
	b.faults(t, `{"latency_ms": 300}`)
	start := time.Now()
	b.get(t, "vmdisks", "nope")
	if time.Since(start) < 300*time.Millisecond {
		t.Errorf("latency not applied")
	}
	b.faults(t, `{"latency_ms": 0}`)
	var recs []struct {
		Seq    int64  `json:"seq"`
		Method string `json:"method"`
		Path   string `json:"path"`
		Status int    `json:"status"`
	}
	if err := json.Unmarshal(b.adminDo(t, "GET", "/requests", ""), &recs); err != nil {
		t.Fatal(err)
	}
	if len(recs) < 5 || recs[0].Method != "GET" || recs[0].Status != 500 || !strings.HasSuffix(recs[0].Path, "/vmdisks/nope") {
		t.Fatalf("request log: %+v", recs)
	}
	for _, r := range recs {
		if r.Method != "GET" {
			t.Errorf("unexpected write in log: %+v", r)
		}
	}
	var f map[string]interface{}
	_ = json.Unmarshal(b.adminDo(t, "GET", "/faults", ""), &f)
	if f["quirks"] != true || f["drop_next"] != float64(0) {
		t.Errorf("faults: %v", f)
	}
}

func TestAuthn(t *testing.T) {
	b := beds["v1"]
	get := func(tok string) int {
		req, _ := http.NewRequest("GET", b.url+"/api/v1/namespaces/tenant-root", nil)
		if tok != "" {
			req.Header.Set("Authorization", "Bearer "+tok)
		}
		res, err := b.tok.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		res.Body.Close()
		return res.StatusCode
	}
	if c := get(b.token); c != 200 {
		t.Errorf("token: %d", c)
	}
	if c := get("wrong"); c != 401 {
		t.Errorf("wrong token: %d", c)
	}
	if c := get(""); c != 401 {
		t.Errorf("anonymous: %d", c)
	}
	if r := b.do(t, "GET", "/api/v1/namespaces/tenant-test", nil); r.code != 200 {
		t.Errorf("client cert: %d", r.code)
	}
	_ = context.Background
}
