// Command testbed runs a local Cozystack-compatible API for the acceptance
// tests of terraform-provider-hikube: the upstream apiextensions-apiserver on
// an embedded etcd, the Cozystack app CRDs of one profile, a core/v1
// stand-in for Namespaces and Services, a simulator of the Cozystack
// controllers and, in front, a quirks proxy that behaves like cozystack-api.
// See docs/guides/testbed.md.
package main

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"log"
	"net"
	"net/http"
	"os"
	"os/signal"
	"path/filepath"
	"strconv"
	"syscall"
	"time"

	corev1 "k8s.io/api/core/v1"
	apiextensionsv1 "k8s.io/apiextensions-apiserver/pkg/apis/apiextensions/v1"
	apiextclient "k8s.io/apiextensions-apiserver/pkg/client/clientset/clientset"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/dynamic"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/tools/clientcmd"
	clientcmdapi "k8s.io/client-go/tools/clientcmd/api"
	"k8s.io/klog/v2"

	"github.com/hikube/terraform-provider-hikube/tests/testbed/internal/catalog"
	"github.com/hikube/terraform-provider-hikube/tests/testbed/internal/crds"
	"github.com/hikube/terraform-provider-hikube/tests/testbed/internal/proxy"
	"github.com/hikube/terraform-provider-hikube/tests/testbed/internal/server"
	"github.com/hikube/terraform-provider-hikube/tests/testbed/internal/simulator"
)

// Namespaces created at start.
var namespaces = []string{"tenant-root", "tenant-test"}

type options struct {
	dir           string
	profile       string
	listen        string
	adminListen   string
	lww           bool
	lwwLag        time.Duration
	readyDelay    time.Duration
	deleteDelay   time.Duration
	gpus          string
	instanceTypes string
	quirks        bool
	notFoundOnce  bool
	fault500      int
	faultCode     int
	latency       time.Duration
	dropNext      int
	verbose       bool
}

func main() {
	var o options
	fs := flag.NewFlagSet("testbed", flag.ExitOnError)
	fs.StringVar(&o.dir, "dir", ".testbed", "state directory: etcd data, certificates, kubeconfig, token, pid, admin-url, ready")
	fs.StringVar(&o.profile, "profile", "v1", "Cozystack generation: v0 (v0.41: VirtualMachine, ephemeralStorage) or v1 (v1.4/1.5: VMInstance+VMDisk, diskSize)")
	fs.StringVar(&o.listen, "listen", "127.0.0.1:0", "public (quirks proxy) address; port 0 picks a free port")
	fs.StringVar(&o.adminListen, "admin-listen", "127.0.0.1:0", "admin HTTP address (plain HTTP, loopback)")
	fs.BoolVar(&o.lww, "lww", false, "last-writer-wins updates and stale-read merge patches (Cozystack v1.5+)")
	fs.DurationVar(&o.lwwLag, "lww-cache-lag", 75*time.Millisecond, "how far the proxy's read cache lags behind etcd (used by --lww patches)")
	fs.DurationVar(&o.readyDelay, "ready-delay", 300*time.Millisecond, "delay before an app (or a change to it) becomes Ready")
	fs.DurationVar(&o.deleteDelay, "delete-delay", 500*time.Millisecond, "delay between DELETE and the object disappearing")
	fs.StringVar(&o.gpus, "gpus", catalog.DefaultGPUs, "offered GPU resource names, comma separated, each optionally =COUNT (default count 4)")
	fs.StringVar(&o.instanceTypes, "instancetypes", "", "override the instance types: comma list of NAME or NAME:CPU:MEMORY (default: u1, o1, cx1, m1, n1, gn1, s1 families)")
	fs.BoolVar(&o.quirks, "quirks", true, "reproduce cozystack-api quirks (409 answered as 500, 404 once after create)")
	fs.BoolVar(&o.notFoundOnce, "notfound-after-create", true, "first GET of a just-created app answers 404 once (needs --quirks)")
	fs.IntVar(&o.fault500, "fault-5xx-next", 0, "answer the next N resource requests with a 5xx")
	fs.IntVar(&o.faultCode, "fault-5xx-code", 500, "status code used by --fault-5xx-next")
	fs.DurationVar(&o.latency, "fault-latency", 0, "latency added to every resource request")
	fs.IntVar(&o.dropNext, "fault-drop-next", 0, "drop (abort without answer) the next N resource requests")
	fs.BoolVar(&o.verbose, "v", false, "verbose apiserver logs")
	_ = fs.Parse(os.Args[1:])

	if err := run(o); err != nil {
		fmt.Fprintf(os.Stderr, "testbed: %v\n", err)
		os.Exit(1)
	}
}

func writeFile(dir, name, content string, mode os.FileMode) error {
	tmp := filepath.Join(dir, "."+name+".tmp")
	if err := os.WriteFile(tmp, []byte(content), mode); err != nil {
		return err
	}
	return os.Rename(tmp, filepath.Join(dir, name))
}

func listen(addr, what string) (net.Listener, error) {
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		if errors.Is(err, syscall.EADDRINUSE) {
			return nil, fmt.Errorf("%s address %s is already in use: stop what listens there or pick another (port 0 picks a free one)", what, addr)
		}
		return nil, fmt.Errorf("cannot listen on %s for the %s: %w", addr, what, err)
	}
	return ln, nil
}

func run(o options) error {
	start := time.Now()
	profile := crds.Profile(o.profile)
	if profile != crds.V0 && profile != crds.V1 {
		return fmt.Errorf("--profile must be v0 or v1, not %q", o.profile)
	}
	cat := &catalog.Catalog{}
	var err error
	if cat.GPUs, err = catalog.ParseGPUs(o.gpus); err != nil {
		return err
	}
	cat.InstanceTypes = catalog.DefaultInstanceTypes()
	if o.instanceTypes != "" {
		if cat.InstanceTypes, err = catalog.ParseInstanceTypes(o.instanceTypes); err != nil {
			return err
		}
	}
	dir, err := filepath.Abs(o.dir)
	if err != nil {
		return err
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return err
	}
	for _, f := range []string{"ready", "admin-url", "kubeconfig", "token"} {
		_ = os.Remove(filepath.Join(dir, f))
	}
	// Listen first so that a taken port fails fast, before etcd starts.
	pubLn, err := listen(o.listen, "public (proxy)")
	if err != nil {
		return err
	}
	adminLn, err := listen(o.adminListen, "admin")
	if err != nil {
		return err
	}
	if err := writeFile(dir, "pid", strconv.Itoa(os.Getpid())+"\n", 0o644); err != nil {
		return err
	}
	logw := io.Writer(os.Stderr)
	logger := log.New(logw, "testbed: ", log.LstdFlags|log.Lmicroseconds)
	klogFlags := flag.NewFlagSet("klog", flag.ContinueOnError)
	klog.InitFlags(klogFlags)
	if !o.verbose {
		_ = klogFlags.Set("v", "0")
		_ = klogFlags.Set("stderrthreshold", "ERROR")
		_ = klogFlags.Set("logtostderr", "false")
		_ = klogFlags.Set("alsologtostderr", "false")
		klog.SetOutput(io.Discard)
		klog.LogToStderr(false)
	}

	ctx, cancel := signal.NotifyContext(context.Background(), syscall.SIGINT, syscall.SIGTERM)
	defer cancel()

	pki, err := server.GeneratePKI(filepath.Join(dir, "pki"))
	if err != nil {
		return fmt.Errorf("failed to generate certificates: %w", err)
	}
	etcd, err := server.StartEtcd(filepath.Join(dir, "etcd"))
	if err != nil {
		return err
	}
	defer etcd.Close()

	apiCtx, apiCancel := context.WithCancel(context.Background())
	api, err := server.StartAPIServer(apiCtx, pki, etcd.ClientURL, logw)
	if err != nil {
		apiCancel()
		return err
	}
	stopAPI := func() {
		apiCancel()
		select {
		case <-api.Done():
		case <-time.After(15 * time.Second):
			logger.Printf("apiserver did not stop within 15s")
		}
	}
	defer stopAPI()
	rc := server.AdminConfig(pki, api.URL)
	if err := server.WaitReady(ctx, rc, 60*time.Second, api.Done()); err != nil {
		return err
	}

	// CRDs of the profile.
	ext, err := apiextclient.NewForConfig(rc)
	if err != nil {
		return err
	}
	for _, k := range crds.Kinds(profile) {
		crd := crds.CRD(profile, k)
		_, err := ext.ApiextensionsV1().CustomResourceDefinitions().Create(ctx, crd, metav1.CreateOptions{})
		if apierrors.IsAlreadyExists(err) {
			cur, gerr := ext.ApiextensionsV1().CustomResourceDefinitions().Get(ctx, crd.Name, metav1.GetOptions{})
			if gerr != nil {
				return gerr
			}
			crd.ResourceVersion = cur.ResourceVersion
			_, err = ext.ApiextensionsV1().CustomResourceDefinitions().Update(ctx, crd, metav1.UpdateOptions{})
		}
		if err != nil {
			return fmt.Errorf("failed to install CRD %s: %w", crd.Name, err)
		}
	}
	// Remove CRDs of the other profile (a --dir reused across profiles).
	all, err := ext.ApiextensionsV1().CustomResourceDefinitions().List(ctx, metav1.ListOptions{})
	if err != nil {
		return err
	}
	for _, c := range all.Items {
		if _, ok := crds.KindByPlural(profile, c.Spec.Names.Plural); !ok && c.Spec.Group == crds.Group {
			_ = ext.ApiextensionsV1().CustomResourceDefinitions().Delete(ctx, c.Name, metav1.DeleteOptions{})
		}
	}
	if err := waitEstablished(ctx, ext, profile); err != nil {
		return err
	}

	core, err := kubernetes.NewForConfig(rc)
	if err != nil {
		return err
	}
	for _, ns := range namespaces {
		_, err := core.CoreV1().Namespaces().Create(ctx, &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: ns}}, metav1.CreateOptions{})
		if err != nil && !apierrors.IsAlreadyExists(err) {
			return fmt.Errorf("failed to create namespace %s: %w", ns, err)
		}
	}
	dyn, err := dynamic.NewForConfig(rc)
	if err != nil {
		return err
	}
	if _, err := simulator.Start(ctx, simulator.Config{
		Profile: profile, Dynamic: dyn, Core: core, Catalog: cat,
		ReadyDelay: o.readyDelay, DeleteDelay: o.deleteDelay, Log: logger,
	}); err != nil {
		return err
	}

	// The proxy.
	caPEM := pki.CAData()
	pool := x509.NewCertPool()
	pool.AppendCertsFromPEM(caPEM)
	serving, err := tls.LoadX509KeyPair(pki.ServerCert, pki.ServerKey)
	if err != nil {
		return err
	}
	admin, err := tls.LoadX509KeyPair(pki.ClientCert, pki.ClientKey)
	if err != nil {
		return err
	}
	faults := proxy.Faults{
		Quirks: o.quirks, NotFoundAfterCreate: o.quirks && o.notFoundOnce, LWW: o.lww,
		LWWCacheLagMS: int(o.lwwLag / time.Millisecond),
		Status500Next: o.fault500, StatusCode: o.faultCode,
		LatencyMS: int(o.latency / time.Millisecond), DropNext: o.dropNext,
	}
	// TESTBED_FAULTS: the admin API's JSON, applied over the flags.
	if env := os.Getenv("TESTBED_FAULTS"); env != "" {
		if err := json.Unmarshal([]byte(env), &faults); err != nil {
			return fmt.Errorf("TESTBED_FAULTS is not valid JSON: %w", err)
		}
	}
	px, err := proxy.New(proxy.Config{
		Profile:     profile,
		Upstream:    api.URL,
		UpstreamTLS: &tls.Config{RootCAs: pool, Certificates: []tls.Certificate{admin}, MinVersion: tls.VersionTLS12},
		Dynamic:     dyn,
		ClientCAs:   pool,
		Token:       pki.Token,
		Catalog:     cat,
		Faults:      faults,
		Log:         logger,
	}, ctx.Done())
	if err != nil {
		return err
	}
	pubSrv := &http.Server{Handler: px, ReadHeaderTimeout: 30 * time.Second, ErrorLog: log.New(io.Discard, "", 0)}
	tlsLn := tls.NewListener(pubLn, proxy.TLSConfig(serving, pool))
	go func() { _ = pubSrv.Serve(tlsLn) }()
	adminSrv := &http.Server{Handler: px.AdminHandler(), ReadHeaderTimeout: 10 * time.Second}
	go func() { _ = adminSrv.Serve(adminLn) }()

	pubURL := "https://" + pubLn.Addr().String()
	adminURL := "http://" + adminLn.Addr().String()
	if err := writeFile(dir, "token", pki.Token+"\n", 0o600); err != nil {
		return err
	}
	if err := writeKubeconfig(dir, pubURL, pki, caPEM); err != nil {
		return err
	}
	if err := writeFile(dir, "admin-url", adminURL+"\n", 0o644); err != nil {
		return err
	}
	if err := selfCheck(ctx, filepath.Join(dir, "kubeconfig"), adminURL); err != nil {
		return err
	}
	ready := fmt.Sprintf("url=%s\nadmin=%s\nprofile=%s\nstarted_in=%s\n", pubURL, adminURL, profile, time.Since(start).Round(time.Millisecond))
	if err := writeFile(dir, "ready", ready, 0o644); err != nil {
		return err
	}
	logger.Printf("ready in %s: profile %s, API %s (apiserver %s), admin %s, kubeconfig %s",
		time.Since(start).Round(time.Millisecond), profile, pubURL, api.URL, adminURL, filepath.Join(dir, "kubeconfig"))

	select {
	case <-ctx.Done():
		logger.Printf("stopping")
	case <-api.Done():
		logger.Printf("apiserver stopped: %v", api.Err())
	}
	_ = os.Remove(filepath.Join(dir, "ready"))
	sctx, scancel := context.WithTimeout(context.Background(), 3*time.Second)
	defer scancel()
	_ = pubSrv.Shutdown(sctx)
	_ = adminSrv.Shutdown(sctx)
	cancel()
	stopAPI()
	etcd.Close()
	_ = os.Remove(filepath.Join(dir, "pid"))
	logger.Printf("stopped")
	return nil
}

func waitEstablished(ctx context.Context, ext apiextclient.Interface, p crds.Profile) error {
	deadline := time.Now().Add(30 * time.Second)
	for _, k := range crds.Kinds(p) {
		for {
			c, err := ext.ApiextensionsV1().CustomResourceDefinitions().Get(ctx, k.Plural+"."+crds.Group, metav1.GetOptions{})
			if err == nil {
				ok := false
				for _, cond := range c.Status.Conditions {
					if cond.Type == apiextensionsv1.Established && cond.Status == apiextensionsv1.ConditionTrue {
						ok = true
					}
				}
				if ok {
					break
				}
			}
			if time.Now().After(deadline) {
				return fmt.Errorf("CRD %s not established after 30s", k.Plural)
			}
			time.Sleep(20 * time.Millisecond)
		}
	}
	return nil
}

func writeKubeconfig(dir, url string, pki *server.PKI, ca []byte) error {
	cfg := clientcmdapi.NewConfig()
	cfg.Clusters["testbed"] = &clientcmdapi.Cluster{Server: url, CertificateAuthorityData: ca}
	cfg.AuthInfos["admin"] = &clientcmdapi.AuthInfo{ClientCertificateData: pki.ClientCertData(), ClientKeyData: pki.ClientKeyData()}
	cfg.AuthInfos["token"] = &clientcmdapi.AuthInfo{Token: pki.Token}
	cfg.Contexts["testbed"] = &clientcmdapi.Context{Cluster: "testbed", AuthInfo: "admin", Namespace: "tenant-root"}
	cfg.Contexts["token"] = &clientcmdapi.Context{Cluster: "testbed", AuthInfo: "token", Namespace: "tenant-root"}
	cfg.CurrentContext = "testbed"
	b, err := clientcmd.Write(*cfg)
	if err != nil {
		return err
	}
	return writeFile(dir, "kubeconfig", string(b), 0o600)
}

// selfCheck goes through the proxy with both users before declaring ready.
func selfCheck(ctx context.Context, kubeconfig, adminURL string) error {
	for _, c := range []string{"testbed", "token"} {
		rc, err := clientcmd.NewNonInteractiveDeferredLoadingClientConfig(
			&clientcmd.ClientConfigLoadingRules{ExplicitPath: kubeconfig},
			&clientcmd.ConfigOverrides{CurrentContext: c}).ClientConfig()
		if err != nil {
			return err
		}
		cs, err := kubernetes.NewForConfig(rc)
		if err != nil {
			return err
		}
		if _, err := cs.CoreV1().Namespaces().Get(ctx, "tenant-root", metav1.GetOptions{}); err != nil {
			return fmt.Errorf("self-check through the proxy (context %s) failed: %w", c, err)
		}
		if _, err := cs.Discovery().ServerResourcesForGroupVersion(crds.Group + "/" + crds.Version); err != nil {
			return fmt.Errorf("self-check discovery (context %s) failed: %w", c, err)
		}
	}
	resp, err := http.Get(adminURL + "/healthz")
	if err != nil {
		return err
	}
	resp.Body.Close()
	// The self-check is not a test request: start with an empty log.
	req, _ := http.NewRequest(http.MethodDelete, adminURL+"/requests", nil)
	if resp, err := http.DefaultClient.Do(req); err == nil {
		resp.Body.Close()
	}
	return nil
}
