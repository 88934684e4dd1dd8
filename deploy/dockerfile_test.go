package deploy_test

import (
	"bytes"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/moby/buildkit/frontend/dockerfile/instructions"
	"github.com/moby/buildkit/frontend/dockerfile/linter"
	"github.com/moby/buildkit/frontend/dockerfile/parser"
)

// requiredLabels are the OCI labels the image must carry.
var requiredLabels = []string{
	"org.opencontainers.image.title",
	"org.opencontainers.image.source",
	"org.opencontainers.image.version",
	"org.opencontainers.image.revision",
	"org.opencontainers.image.created",
	"org.opencontainers.image.licenses",
}

// checkDockerfile parses a Dockerfile with BuildKit's own parser and checks
// the image an operator gets: a cross-compiled static binary, installed as
// /usr/local/bin/adapter, in a minimal image running as a numeric non-root
// user. goVersion is go.mod's go directive.
func checkDockerfile(src []byte, goVersion string) problems {
	var p problems
	res, err := parser.Parse(bytes.NewReader(src))
	if err != nil {
		p.add("parse: %v", err)
		return p
	}
	for _, w := range res.Warnings {
		p.add("parser warning: %s", w.Short)
	}
	// BuildKit's own lint rules (the ones `docker build --check` runs at
	// parse time), each a problem here.
	lint := linter.New(&linter.Config{Warn: func(rule, _, _, msg string, _ []parser.Range) {
		p.add("lint %s: %s", rule, msg)
	}})
	stages, metaArgs, err := instructions.Parse(res.AST, lint)
	if err != nil {
		p.add("instructions: %v", err)
		return p
	}
	if len(stages) < 2 {
		p.add("%d stages, want a multi-stage build", len(stages))
		return p
	}
	argDefault := map[string]string{}
	for _, a := range metaArgs {
		for _, kv := range a.Args {
			if kv.Value != nil {
				argDefault[kv.Key] = *kv.Value
			}
		}
	}
	expand := func(s string) string {
		for k, v := range argDefault {
			s = strings.ReplaceAll(strings.ReplaceAll(s, "${"+k+"}", v), "$"+k, v)
		}
		return s
	}

	// The build stage: on the build platform, cross-compiling for the target.
	build := stages[0]
	if build.Platform != "$BUILDPLATFORM" && build.Platform != "${BUILDPLATFORM}" {
		p.add("build stage platform %q, want $BUILDPLATFORM (cross-compile, no emulation)", build.Platform)
	}
	img, tag, _ := strings.Cut(expand(build.BaseName), ":")
	if img != "golang" || !(tag == goVersion || strings.HasPrefix(tag, goVersion+".") || strings.HasPrefix(tag, goVersion+"-")) {
		p.add("build stage image %q, want golang:%s (go.mod)", expand(build.BaseName), goVersion)
	}
	var args []string
	var runs []string
	for _, c := range build.Commands {
		switch c := c.(type) {
		case *instructions.ArgCommand:
			for _, kv := range c.Args {
				args = append(args, kv.Key)
			}
		case *instructions.RunCommand:
			runs = append(runs, strings.Join(c.CmdLine, " "))
		}
	}
	for _, a := range []string{"TARGETOS", "TARGETARCH", "VERSION", "COMMIT", "DATE"} {
		if !slices.Contains(args, a) {
			p.add("build stage does not declare ARG %s", a)
		}
	}
	var goBuild string
	for _, r := range runs {
		if strings.Contains(r, "go build") {
			goBuild = r
		}
	}
	for _, want := range []string{
		"CGO_ENABLED=0", "GOOS=${TARGETOS}", "GOARCH=${TARGETARCH}", "-trimpath",
		"-X main.version=${VERSION}", "-X main.commit=${COMMIT}", "-X main.date=${DATE}",
		"-o /out/usr/local/bin/adapter", "./cmd/harbor-scanner-neuvector",
	} {
		if !strings.Contains(goBuild, want) {
			p.add("go build lacks %q: %q", want, goBuild)
		}
	}
	if !slices.ContainsFunc(runs, func(r string) bool {
		return strings.Contains(r, "ln /out/usr/local/bin/adapter /out/usr/local/bin/harbor-scanner-neuvector")
	}) {
		p.add("build stage does not hard-link /usr/local/bin/harbor-scanner-neuvector to the adapter")
	}

	// The final stage: minimal, non-root, nothing run inside it.
	final := stages[len(stages)-1]
	if b := final.BaseName; b != "scratch" && !strings.HasPrefix(b, "gcr.io/distroless/static") {
		p.add("final image %q, want distroless static or scratch", b)
	}
	var user string
	labels := map[string]string{}
	copied := false
	var entrypoint, cmd []string
	var exposed []string
	for _, c := range final.Commands {
		switch c := c.(type) {
		case *instructions.UserCommand:
			user = c.User
		case *instructions.RunCommand:
			p.add("final stage runs %q; the image has no shell", strings.Join(c.CmdLine, " "))
		case *instructions.LabelCommand:
			for _, kv := range c.Labels {
				labels[kv.Key] = kv.Value
			}
		case *instructions.CopyCommand:
			if c.From == build.Name && slices.Equal(c.SourcePaths, []string{"/out/"}) && c.DestPath == "/" {
				copied = true
			}
		case *instructions.EntrypointCommand:
			if !c.PrependShell {
				entrypoint = c.CmdLine
			}
		case *instructions.CmdCommand:
			if !c.PrependShell {
				cmd = c.CmdLine
			}
		case *instructions.ExposeCommand:
			exposed = append(exposed, c.Ports...)
		}
	}
	uid, gid, _ := strings.Cut(user, ":")
	if n, err := strconv.Atoi(uid); err != nil || n == 0 {
		p.add("final USER %q: want a numeric non-root UID", user)
	}
	if gid != "" {
		if _, err := strconv.Atoi(gid); err != nil {
			p.add("final USER group %q is not numeric", gid)
		}
	}
	if !copied {
		p.add("final stage does not copy /out/ (the adapter and its link) from the build stage")
	}
	if !slices.Equal(entrypoint, []string{adapterCommand}) || !slices.Equal(cmd, []string{"serve"}) {
		p.add("ENTRYPOINT %q CMD %q, want exec form [%s] [serve]", entrypoint, cmd, adapterCommand)
	}
	for _, port := range []string{strconv.Itoa(httpPort), strconv.Itoa(httpsPort), strconv.Itoa(opsPort)} {
		if !slices.Contains(exposed, port) {
			p.add("port %s not exposed", port)
		}
	}
	for _, l := range requiredLabels {
		if strings.TrimSpace(strings.Trim(labels[l], `"`)) == "" {
			p.add("label %s missing", l)
		}
	}
	if v := strings.Trim(labels["org.opencontainers.image.version"], `"`); v != "${VERSION}" {
		p.add("label version %q, want ${VERSION}", v)
	}
	if r := strings.Trim(labels["neuvector.role"], `"`); r != "registry-adapter" {
		p.add("label neuvector.role %q, want registry-adapter (the enforcer's role for /usr/local/bin/adapter)", r)
	}
	return p
}

var goDirectiveRE = regexp.MustCompile(`(?m)^go (\d+\.\d+)`)

func goModVersion(t testing.TB) string {
	t.Helper()
	m := goDirectiveRE.FindSubmatch(readFile(t, "go.mod"))
	if m == nil {
		t.Fatal("no go directive in go.mod")
	}
	return string(m[1])
}

func TestDockerfile(t *testing.T) {
	// The check must see the lint rules fire at all.
	if p := checkDockerfile([]byte("FROM golang:1.26 as build\nFROM scratch AS Final\nUSER 1\n"), "1.26"); !slices.ContainsFunc(p, func(s string) bool { return strings.Contains(s, "lint FromAsCasing") }) {
		t.Fatalf("lint rules did not run: %q", p)
	}
	assertNone(t, "Dockerfile", checkDockerfile(readFile(t, "Dockerfile"), goModVersion(t)))
}

// TestDockerignore: the context keeps the sources the build needs and drops
// the repository metadata.
func TestDockerignore(t *testing.T) {
	lines := strings.Split(string(readFile(t, ".dockerignore")), "\n")
	for _, must := range []string{".git", "**/*_test.go"} {
		if !slices.Contains(lines, must) {
			t.Errorf(".dockerignore lacks %q", must)
		}
	}
	for _, l := range lines {
		for _, needed := range []string{"go.mod", "go.sum", "cmd", "proxy", "cache", "translate", "internal", "*", "*.go"} {
			if strings.TrimSpace(l) == needed || strings.TrimSpace(l) == "/"+needed {
				t.Errorf(".dockerignore drops %q, which the build needs", l)
			}
		}
	}
}
