// Package server starts the real parts of the test bed: an embedded etcd, the
// upstream apiextensions-apiserver, and a core/v1 stand-in (Namespaces and
// Services) served by the same generic apiserver from the same etcd.
package server

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/hex"
	"encoding/pem"
	"fmt"
	"math/big"
	"net"
	"os"
	"path/filepath"
	"time"
)

// PKI holds the generated CA and the certificates issued from it, all
// written as PEM files into one directory.
type PKI struct {
	Dir        string
	CACert     string // path
	ServerCert string
	ServerKey  string
	ClientCert string // CN=testbed-admin, O=system:masters
	ClientKey  string
	Token      string // the static bearer token value
}

func writePEM(path, typ string, der []byte, mode os.FileMode) error {
	return os.WriteFile(path, pem.EncodeToMemory(&pem.Block{Type: typ, Bytes: der}), mode)
}

func newKey() (*ecdsa.PrivateKey, []byte, error) {
	k, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return nil, nil, err
	}
	der, err := x509.MarshalECPrivateKey(k)
	return k, der, err
}

func serial() *big.Int {
	n, _ := rand.Int(rand.Reader, new(big.Int).Lsh(big.NewInt(1), 62))
	return n
}

// GeneratePKI creates a fresh CA, a serving certificate for 127.0.0.1 and
// localhost, an admin client certificate in group system:masters and a
// random bearer token. Everything is regenerated at each start.
func GeneratePKI(dir string) (*PKI, error) {
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, err
	}
	p := &PKI{
		Dir:        dir,
		CACert:     filepath.Join(dir, "ca.crt"),
		ServerCert: filepath.Join(dir, "server.crt"),
		ServerKey:  filepath.Join(dir, "server.key"),
		ClientCert: filepath.Join(dir, "client.crt"),
		ClientKey:  filepath.Join(dir, "client.key"),
	}
	now := time.Now().Add(-time.Hour)
	caKey, _, err := newKey()
	if err != nil {
		return nil, err
	}
	caTmpl := &x509.Certificate{
		SerialNumber:          serial(),
		Subject:               pkix.Name{CommonName: "hikube-testbed-ca"},
		NotBefore:             now,
		NotAfter:              now.Add(10 * 365 * 24 * time.Hour),
		KeyUsage:              x509.KeyUsageCertSign | x509.KeyUsageDigitalSignature | x509.KeyUsageCRLSign,
		BasicConstraintsValid: true,
		IsCA:                  true,
	}
	caDER, err := x509.CreateCertificate(rand.Reader, caTmpl, caTmpl, &caKey.PublicKey, caKey)
	if err != nil {
		return nil, err
	}
	caCert, err := x509.ParseCertificate(caDER)
	if err != nil {
		return nil, err
	}
	if err := writePEM(p.CACert, "CERTIFICATE", caDER, 0o644); err != nil {
		return nil, err
	}
	issue := func(certPath, keyPath string, tmpl *x509.Certificate) error {
		k, kder, err := newKey()
		if err != nil {
			return err
		}
		der, err := x509.CreateCertificate(rand.Reader, tmpl, caCert, &k.PublicKey, caKey)
		if err != nil {
			return err
		}
		if err := writePEM(certPath, "CERTIFICATE", der, 0o644); err != nil {
			return err
		}
		return writePEM(keyPath, "EC PRIVATE KEY", kder, 0o600)
	}
	if err := issue(p.ServerCert, p.ServerKey, &x509.Certificate{
		SerialNumber: serial(),
		Subject:      pkix.Name{CommonName: "hikube-testbed"},
		NotBefore:    now,
		NotAfter:     now.Add(5 * 365 * 24 * time.Hour),
		KeyUsage:     x509.KeyUsageDigitalSignature | x509.KeyUsageKeyEncipherment,
		ExtKeyUsage:  []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
		DNSNames:     []string{"localhost"},
		IPAddresses:  []net.IP{net.ParseIP("127.0.0.1"), net.ParseIP("::1")},
	}); err != nil {
		return nil, fmt.Errorf("failed to issue serving certificate: %w", err)
	}
	if err := issue(p.ClientCert, p.ClientKey, &x509.Certificate{
		SerialNumber: serial(),
		Subject:      pkix.Name{CommonName: "testbed-admin", Organization: []string{"system:masters"}},
		NotBefore:    now,
		NotAfter:     now.Add(5 * 365 * 24 * time.Hour),
		KeyUsage:     x509.KeyUsageDigitalSignature | x509.KeyUsageKeyEncipherment,
		ExtKeyUsage:  []x509.ExtKeyUsage{x509.ExtKeyUsageClientAuth},
	}); err != nil {
		return nil, fmt.Errorf("failed to issue client certificate: %w", err)
	}
	tok := make([]byte, 24)
	if _, err := rand.Read(tok); err != nil {
		return nil, err
	}
	p.Token = hex.EncodeToString(tok)
	return p, nil
}

// ReadFile is a small helper returning a file's bytes or panicking: used for
// files this package has just written.
func mustRead(path string) []byte {
	b, err := os.ReadFile(path)
	if err != nil {
		panic(err)
	}
	return b
}

// CAData returns the CA certificate PEM.
func (p *PKI) CAData() []byte { return mustRead(p.CACert) }

// ClientCertData returns the admin client certificate PEM.
func (p *PKI) ClientCertData() []byte { return mustRead(p.ClientCert) }

// ClientKeyData returns the admin client key PEM.
func (p *PKI) ClientKeyData() []byte { return mustRead(p.ClientKey) }
