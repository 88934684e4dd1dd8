package check

import (
	"bytes"
	"context"
	"encoding/json"
	"flag"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/neuvector/harbor-scanner-neuvector/internal/harborclient/adaptertest"
)

func TestMainExitCodes(t *testing.T) {
	s := httptest.NewServer(&adaptertest.Adapter{})
	defer s.Close()
	var out, errb bytes.Buffer
	if code := Main(context.Background(), []string{"-json", s.URL}, &out, &errb); code != 0 {
		t.Fatalf("code %d: %s %s", code, out.String(), errb.String())
	}
	var rep Report
	if err := json.Unmarshal(out.Bytes(), &rep); err != nil || !rep.OK || rep.URL != s.URL {
		t.Fatalf("%v %+v", err, rep)
	}

	bad := httptest.NewServer(&adaptertest.Adapter{Metadata: []byte(`{}`)})
	defer bad.Close()
	out.Reset()
	if code := Main(context.Background(), []string{"-url", bad.URL}, &out, &errb); code != 1 || !strings.Contains(out.String(), "invalid scanner in metadata") {
		t.Fatalf("code %d: %s", code, out.String())
	}
	if code := Main(context.Background(), []string{"-nope"}, &out, &errb); code != 2 {
		t.Fatalf("bad flag: code %d", code)
	}
	if code := Main(context.Background(), []string{"a", "b"}, &out, &errb); code != 2 {
		t.Fatalf("two URLs: code %d", code)
	}
}

func TestCredentialFromEnvironment(t *testing.T) {
	t.Setenv(EnvCredential, "admin:from-env")
	t.Setenv(EnvRegistryPassword, "robot-secret")
	var o Options
	fs := newFlagSet()
	RegisterFlags(fs, &o)
	if err := fs.Parse([]string{"-image", "a@" + digest, "-image", "b@" + digest}); err != nil {
		t.Fatal(err)
	}
	if o.Credential != "admin:from-env" || o.RegistryPassword != "robot-secret" || len(o.Images) != 2 || o.URL != DefaultURL {
		t.Fatalf("%+v", o)
	}
}

func newFlagSet() *flag.FlagSet { return flag.NewFlagSet("t", flag.ContinueOnError) }
