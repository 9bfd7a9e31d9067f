package main

import (
	"bytes"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"math/big"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"filippo.io/age"
	"github.com/rogpeppe/go-internal/testscript"
)

// TestMain lets testscript run this binary as the "wso2sync" command, so
// the scripts exercise the real main.
func TestMain(m *testing.M) {
	if os.Getenv(runMainEnv) == "1" {
		os.Exit(Main())
	}
	testscript.Main(m, map[string]func(){
		"wso2sync": func() { os.Exit(Main()) },
	})
}

// TestScripts runs testdata/script/*.txtar. WSO2SYNC_UPDATE=1 rewrites the
// golden files inside the scripts from the actual output.
func TestScripts(t *testing.T) {
	p := scriptParams(t, filepath.Join("..", "..", "testdata", "script"))
	p.UpdateScripts = os.Getenv("WSO2SYNC_UPDATE") == "1"
	testscript.Run(t, p)
}

// scriptParams are the settings every CLI script runs with: $EXAMPLES,
// free simulator addresses ($APIM_ADDR, $IS_ADDR) and the custom commands.
func scriptParams(t *testing.T, dir string) testscript.Params {
	examples, err := filepath.Abs(filepath.Join("..", "..", "examples", "environments"))
	if err != nil {
		t.Fatal(err)
	}
	return testscript.Params{
		Dir:                 dir,
		RequireExplicitExec: true,
		Setup: func(env *testscript.Env) error {
			env.Setenv("EXAMPLES", examples)
			// Keep the host's settings out of the scripts.
			env.Setenv("WSO2SYNC_APIM_URL", "")
			env.Setenv("WSO2SYNC_IS_URL", "")
			env.Setenv("NO_COLOR", "1")
			// Each script gets its own free ports for a background
			// `wso2sync sim`, so scripts (and parallel test runs on the
			// same machine) never talk to each other's simulator.
			for _, name := range []string{"APIM_ADDR", "IS_ADDR", "GW_ADDR"} {
				addr, err := freeAddr()
				if err != nil {
					return err
				}
				env.Setenv(name, addr)
			}
			return nil
		},
		Cmds: map[string]func(ts *testscript.TestScript, neg bool, args []string){
			"gencert": cmdGencert,
			"cpdir":   cmdCpdir,
			"waitsim": cmdWaitsim,
			"agekey":  cmdAgekey,
			"bigfile": cmdBigfile,
		},
	}
}

// cmdGencert writes a self-signed PEM certificate that expires in N days:
//
//	gencert FILE DAYS
func cmdGencert(ts *testscript.TestScript, neg bool, args []string) {
	if neg || len(args) != 2 {
		ts.Fatalf("usage: gencert FILE DAYS")
	}
	days, err := strconv.Atoi(args[1])
	ts.Check(err)
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	ts.Check(err)
	now := time.Now()
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(1),
		Subject:      pkix.Name{CommonName: "test-" + args[1] + "d"},
		NotBefore:    now.Add(-24 * time.Hour),
		// Half a day of slack so "in N days" does not flip during the run.
		NotAfter: now.Add(time.Duration(days)*24*time.Hour + 12*time.Hour),
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	ts.Check(err)
	ts.Check(os.MkdirAll(filepath.Dir(ts.MkAbs(args[0])), 0o755))
	ts.Check(os.WriteFile(ts.MkAbs(args[0]), pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}), 0o644))
}

// cmdCpdir copies a directory tree (manifests, certificates) into the
// script's work directory:
//
//	cpdir SRC DST
func cmdCpdir(ts *testscript.TestScript, neg bool, args []string) {
	if neg || len(args) != 2 {
		ts.Fatalf("usage: cpdir SRC DST")
	}
	src, dst := ts.MkAbs(args[0]), ts.MkAbs(args[1])
	ts.Check(filepath.WalkDir(src, func(path string, d os.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, err := filepath.Rel(src, path)
		if err != nil {
			return err
		}
		if d.IsDir() {
			if d.Name() == ".wso2sync" {
				return filepath.SkipDir
			}
			return os.MkdirAll(filepath.Join(dst, rel), 0o755)
		}
		data, err := os.ReadFile(path)
		if err != nil {
			return err
		}
		return os.WriteFile(filepath.Join(dst, rel), data, 0o644)
	}))
}

// freeAddr returns a loopback address with a port nobody listens on now.
func freeAddr() (string, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return "", err
	}
	defer l.Close()
	return l.Addr().String(), nil
}

// cmdAgekey writes a fresh age identity to FILE and sets $AGE_RECIPIENT
// to its public key, so no private key is kept in the scripts:
//
//	agekey FILE
func cmdAgekey(ts *testscript.TestScript, neg bool, args []string) {
	if neg || len(args) != 1 {
		ts.Fatalf("usage: agekey FILE")
	}
	id, err := age.GenerateX25519Identity()
	ts.Check(err)
	ts.Check(os.WriteFile(ts.MkAbs(args[0]), []byte(id.String()+"\n"), 0o600))
	ts.Setenv("AGE_RECIPIENT", id.Recipient().String())
}

// cmdWaitsim waits until a background `wso2sync sim` answers on both
// $APIM_ADDR and $IS_ADDR (its control API), instead of sleeping:
//
//	waitsim
func cmdWaitsim(ts *testscript.TestScript, neg bool, args []string) {
	if neg || len(args) != 0 {
		ts.Fatalf("usage: waitsim")
	}
	client := &http.Client{Timeout: time.Second}
	deadline := time.Now().Add(20 * time.Second)
	for _, name := range []string{"APIM_ADDR", "IS_ADDR"} {
		url := "http://" + ts.Getenv(name) + "/_sim/stats"
		for {
			resp, err := client.Get(url)
			if err == nil {
				resp.Body.Close()
				if resp.StatusCode == http.StatusOK {
					break
				}
			}
			if time.Now().After(deadline) {
				ts.Fatalf("the simulator does not answer at %s: %v", url, err)
			}
			time.Sleep(50 * time.Millisecond)
		}
	}
}

// cmdBigfile writes a file of N bytes 'x', between an optional prefix and
// suffix (\n in them is a newline):
//
//	bigfile FILE N [PREFIX [SUFFIX]]
func cmdBigfile(ts *testscript.TestScript, neg bool, args []string) {
	if neg || len(args) < 2 || len(args) > 4 {
		ts.Fatalf("usage: bigfile FILE N [PREFIX [SUFFIX]]")
	}
	n, err := strconv.Atoi(args[1])
	ts.Check(err)
	args = append(args, "", "")
	nl := func(s string) []byte { return []byte(strings.ReplaceAll(s, `\n`, "\n")) }
	data := append(append(nl(args[2]), bytes.Repeat([]byte("x"), n)...), nl(args[3])...)
	ts.Check(os.WriteFile(ts.MkAbs(args[0]), data, 0o600))
}
