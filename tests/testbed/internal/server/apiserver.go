package server

import (
	"context"
	"crypto/subtle"
	"fmt"
	"io"
	"net"
	"net/http"
	"time"

	noopoteltrace "go.opentelemetry.io/otel/trace/noop"
	"k8s.io/apiextensions-apiserver/pkg/apiserver"
	"k8s.io/apiextensions-apiserver/pkg/cmd/server/options"
	generatedopenapi "k8s.io/apiextensions-apiserver/pkg/generated/openapi"
	"k8s.io/apiserver/pkg/authentication/authenticator"
	"k8s.io/apiserver/pkg/authentication/request/bearertoken"
	"k8s.io/apiserver/pkg/authentication/request/union"
	"k8s.io/apiserver/pkg/authentication/user"
	openapinamer "k8s.io/apiserver/pkg/endpoints/openapi"
	genericapiserver "k8s.io/apiserver/pkg/server"
	"k8s.io/apiserver/pkg/util/openapi"
	"k8s.io/apiserver/pkg/util/webhook"
	"k8s.io/client-go/kubernetes/scheme"
	"k8s.io/client-go/rest"
	"net/url"
)

// APIServer is the upstream apiextensions-apiserver plus the core/v1
// stand-in, running in this process.
type APIServer struct {
	URL  string // https://127.0.0.1:PORT (the real apiserver, not the proxy)
	done chan struct{}
	err  error
}

// Done is closed when the server has stopped.
func (a *APIServer) Done() <-chan struct{} { return a.done }

// Err returns the error Run ended with (after Done is closed).
func (a *APIServer) Err() error { return a.err }

// TokenUser is the identity of the static bearer token.
const TokenUser = "testbed-token"

type noServiceResolver struct{}

func (noServiceResolver) ResolveEndpoint(namespace, name string, port int32) (*url.URL, error) {
	return nil, fmt.Errorf("testbed: no service resolution (webhooks are not supported)")
}

// StartAPIServer configures and starts the apiextensions-apiserver on a free
// loopback port. It uses the flags upstream's own integration fixture uses to
// run without a kube-apiserver: no in-cluster lookup, no delegated authn/authz
// webhooks (only client certificates, the static token and the privileged
// group system:masters), no priority-and-fairness, no admission plugins.
func StartAPIServer(ctx context.Context, pki *PKI, etcdURL string, log io.Writer) (*APIServer, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, err
	}
	port := ln.Addr().(*net.TCPAddr).Port

	o := options.NewCustomResourceDefinitionsServerOptions(log, log)
	ro := o.RecommendedOptions
	ro.Etcd.StorageConfig.Transport.ServerList = []string{etcdURL}
	ro.SecureServing.Listener = ln
	ro.SecureServing.BindAddress = net.ParseIP("127.0.0.1")
	ro.SecureServing.BindPort = port
	ro.SecureServing.ServerCert.CertKey.CertFile = pki.ServerCert
	ro.SecureServing.ServerCert.CertKey.KeyFile = pki.ServerKey
	ro.Authentication.ClientCert.ClientCA = pki.CACert
	ro.Authentication.RemoteKubeConfigFileOptional = true
	ro.Authentication.SkipInClusterLookup = true
	ro.Authentication.TolerateInClusterLookupFailure = true
	ro.Authorization.RemoteKubeConfigFileOptional = true
	ro.CoreAPI = nil
	ro.Admission = nil
	ro.Features.EnablePriorityAndFairness = false
	if err := o.Complete(); err != nil {
		return nil, err
	}
	if err := o.Validate(); err != nil {
		return nil, fmt.Errorf("invalid apiserver options: %w", err)
	}

	serverConfig := genericapiserver.NewRecommendedConfig(apiserver.Codecs)
	if err := o.ServerRunOptions.ApplyTo(&serverConfig.Config); err != nil {
		return nil, err
	}
	if err := ro.ApplyTo(serverConfig); err != nil {
		return nil, fmt.Errorf("failed to apply apiserver options: %w", err)
	}
	if err := o.APIEnablement.ApplyTo(&serverConfig.Config, apiserver.DefaultAPIResourceConfigSource(), apiserver.Scheme); err != nil {
		return nil, err
	}
	// The static bearer token, checked before the delegated authenticators.
	want := []byte(pki.Token)
	tokenAuth := bearertoken.New(authenticator.TokenFunc(func(ctx context.Context, tok string) (*authenticator.Response, bool, error) {
		if subtle.ConstantTimeCompare([]byte(tok), want) != 1 {
			return nil, false, nil
		}
		return &authenticator.Response{User: &user.DefaultInfo{
			Name:   TokenUser,
			Groups: []string{user.SystemPrivilegedGroup, user.AllAuthenticated},
		}}, true, nil
	}))
	if serverConfig.Authentication.Authenticator != nil {
		serverConfig.Authentication.Authenticator = union.New(tokenAuth, serverConfig.Authentication.Authenticator)
	} else {
		serverConfig.Authentication.Authenticator = tokenAuth
	}

	serverConfig.OpenAPIV3Config = genericapiserver.DefaultOpenAPIV3Config(
		withCoreDefinitions(openapi.GetOpenAPIDefinitionsWithoutDisabledFeatures(generatedopenapi.GetOpenAPIDefinitions)),
		openapinamer.NewDefinitionNamer(apiserver.Scheme, scheme.Scheme))
	serverConfig.OpenAPIV3Config.Info.Title = "hikube-testbed"

	config := &apiserver.Config{
		GenericConfig: serverConfig,
		ExtraConfig: apiserver.ExtraConfig{
			CRDRESTOptionsGetter: options.NewCRDRESTOptionsGetter(*ro.Etcd, serverConfig.ResourceTransformers, serverConfig.StorageObjectCountTracker),
			ServiceResolver:      noServiceResolver{},
			AuthResolverWrapper:  webhook.NewDefaultAuthenticationInfoResolverWrapper(nil, nil, serverConfig.LoopbackClientConfig, noopoteltrace.NewTracerProvider()),
		},
	}
	completed := config.Complete()
	s, err := completed.New(genericapiserver.NewEmptyDelegate())
	if err != nil {
		return nil, fmt.Errorf("failed to create apiextensions-apiserver: %w", err)
	}
	if err := installCore(s.GenericAPIServer, *ro.Etcd, serverConfig.ResourceTransformers); err != nil {
		return nil, fmt.Errorf("failed to install core/v1 stand-in: %w", err)
	}
	a := &APIServer{URL: fmt.Sprintf("https://127.0.0.1:%d", port), done: make(chan struct{})}
	prepared := s.GenericAPIServer.PrepareRun()
	go func() {
		a.err = prepared.RunWithContext(ctx)
		close(a.done)
	}()
	return a, nil
}

// AdminConfig is a client config for the real apiserver using the admin
// client certificate.
func AdminConfig(pki *PKI, url string) *rest.Config {
	return &rest.Config{
		Host: url,
		TLSClientConfig: rest.TLSClientConfig{
			CAFile:   pki.CACert,
			CertFile: pki.ClientCert,
			KeyFile:  pki.ClientKey,
		},
		QPS:   1000,
		Burst: 1000,
	}
}

// WaitReady polls /readyz until it answers 200 or the timeout passes.
func WaitReady(ctx context.Context, cfg *rest.Config, timeout time.Duration, done <-chan struct{}) error {
	tr, err := rest.TransportFor(cfg)
	if err != nil {
		return err
	}
	c := &http.Client{Transport: tr, Timeout: 2 * time.Second}
	deadline := time.Now().Add(timeout)
	var last string
	for time.Now().Before(deadline) {
		select {
		case <-done:
			return fmt.Errorf("apiserver stopped while starting")
		case <-ctx.Done():
			return ctx.Err()
		default:
		}
		resp, err := c.Get(cfg.Host + "/readyz")
		if err == nil {
			b, _ := io.ReadAll(resp.Body)
			resp.Body.Close()
			if resp.StatusCode == 200 {
				return nil
			}
			last = fmt.Sprintf("%d %s", resp.StatusCode, b)
		} else {
			last = err.Error()
		}
		time.Sleep(50 * time.Millisecond)
	}
	return fmt.Errorf("apiserver not ready after %s: %s", timeout, last)
}
