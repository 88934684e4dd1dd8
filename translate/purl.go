package translate

import (
	"strings"

	"github.com/package-url/packageurl-go"
)

// osFamily is how a NeuVector namespace ("debian:12", "alpine:3.19",
// "rhel:8"…) maps to package URLs: the purl type and namespace of its
// packages and the distro qualifier's name.
type osFamily struct {
	purlType, purlNamespace, distro string
}

var osFamilies = map[string]osFamily{
	"debian":        {packageurl.TypeDebian, "debian", "debian"},
	"ubuntu":        {packageurl.TypeDebian, "ubuntu", "ubuntu"},
	"alpine":        {packageurl.TypeApk, "alpine", "alpine"},
	"wolfi":         {packageurl.TypeApk, "wolfi", "wolfi"},
	"chainguard":    {packageurl.TypeApk, "chainguard", "chainguard"},
	"centos":        {packageurl.TypeRPM, "centos", "centos"},
	"rhel":          {packageurl.TypeRPM, "redhat", "rhel"},
	"redhat":        {packageurl.TypeRPM, "redhat", "rhel"},
	"fedora":        {packageurl.TypeRPM, "fedora", "fedora"},
	"rocky":         {packageurl.TypeRPM, "rocky", "rocky"},
	"almalinux":     {packageurl.TypeRPM, "almalinux", "almalinux"},
	"oracle":        {packageurl.TypeRPM, "oracle", "ol"},
	"ol":            {packageurl.TypeRPM, "oracle", "ol"},
	"amzn":          {packageurl.TypeRPM, "amazon", "amzn"},
	"amazon":        {packageurl.TypeRPM, "amazon", "amzn"},
	"sles":          {packageurl.TypeRPM, "suse", "sles"},
	"suse":          {packageurl.TypeRPM, "suse", "sles"},
	"opensuse":      {packageurl.TypeRPM, "opensuse", "opensuse"},
	"opensuse-leap": {packageurl.TypeRPM, "opensuse", "opensuse-leap"},
	"mariner":       {packageurl.TypeRPM, "mariner", "mariner"},
	"azurelinux":    {packageurl.TypeRPM, "azurelinux", "azurelinux"},
	"photon":        {packageurl.TypeRPM, "photon", "photon"},
}

// splitNamespace splits a NeuVector namespace "name:version".
func splitNamespace(ns string) (name, version string) {
	name, version, _ = strings.Cut(ns, ":")
	return strings.ToLower(name), version
}

// isOSNamespace tells OS package sources ("debian:12") from application
// sources ("jar", "python", "golang"…): only the former carry a version.
func isOSNamespace(source string) bool { return strings.Contains(source, ":") }

// modulePURL builds the package URL of a module, "" when its origin does not
// allow one (an unknown OS or ecosystem, a jar without a group).
func modulePURL(m *Module, baseOS string) string {
	src := m.Source
	if src == "" {
		src = baseOS
	}
	if isOSNamespace(src) {
		osName, osVer := splitNamespace(src)
		fam, ok := osFamilies[osName]
		if !ok || m.Name == "" {
			return ""
		}
		var q packageurl.Qualifiers
		if osVer != "" {
			q = packageurl.Qualifiers{{Key: "distro", Value: fam.distro + "-" + strings.TrimPrefix(osVer, "v")}}
		}
		return purlString(fam.purlType, fam.purlNamespace, m.Name, m.Version, q)
	}
	name := m.Name
	switch strings.ToLower(src) {
	case "golang", "go":
		path := strings.TrimPrefix(name, "go:")
		ns, n := splitLast(path, "/")
		return purlString(packageurl.TypeGolang, ns, n, goVersion(m.Version), nil)
	case "jar", "java", "maven":
		group, artifact, ok := strings.Cut(name, ":")
		if !ok || group == "" || artifact == "" || group == "jar" {
			// "jar:<title>" is NeuVector's placeholder for an unknown group
			return ""
		}
		return purlString(packageurl.TypeMaven, group, artifact, m.Version, nil)
	case "python":
		n := strings.TrimPrefix(name, "python:")
		// PyPI names are case-insensitive with '_' and '-' equivalent
		n = strings.ReplaceAll(strings.ToLower(n), "_", "-")
		return purlString(packageurl.TypePyPi, "", n, m.Version, nil)
	case "npm", "nodejs", "node":
		ns, n := "", name
		if strings.HasPrefix(n, "@") {
			ns, n = splitLast(n, "/")
		}
		return purlString(packageurl.TypeNPM, ns, n, m.Version, nil)
	case "ruby", "gem":
		return purlString(packageurl.TypeGem, "", strings.TrimPrefix(name, "ruby:"), m.Version, nil)
	case "php", "composer":
		n := strings.TrimPrefix(name, "php:")
		ns, n := splitLast(n, "/")
		return purlString(packageurl.TypeComposer, ns, n, m.Version, nil)
	case ".net", "dotnet", "nuget":
		n := strings.TrimPrefix(name, ".NET:")
		if n == "Core" {
			// the runtime itself, not a NuGet package
			return ""
		}
		return purlString(packageurl.TypeNuget, "", n, m.Version, nil)
	case "r":
		return purlString(packageurl.TypeCran, "", name, m.Version, nil)
	case "cargo", "rust":
		return purlString(packageurl.TypeCargo, "", name, m.Version, nil)
	}
	return ""
}

// imagePURL is pkg:oci/<name>@<digest>?repository_url=<host>/<repository>.
func imagePURL(registry string, a Artifact) string {
	_, name := splitLast(a.Repository, "/")
	if name == "" || a.Digest == "" {
		return ""
	}
	var q packageurl.Qualifiers
	if host := registryHost(registry); host != "" {
		q = append(q, packageurl.Qualifier{Key: "repository_url", Value: host + "/" + a.Repository})
	}
	if a.Tag != "" {
		q = append(q, packageurl.Qualifier{Key: "tag", Value: a.Tag})
	}
	return purlString(packageurl.TypeOCI, "", strings.ToLower(name), a.Digest, q)
}

// registryHost strips the scheme and any path from a registry URL.
func registryHost(u string) string {
	if i := strings.Index(u, "://"); i >= 0 {
		u = u[i+3:]
	}
	if i := strings.IndexByte(u, '/'); i >= 0 {
		u = u[:i]
	}
	return u
}

func purlString(typ, ns, name, version string, q packageurl.Qualifiers) string {
	if name == "" {
		return ""
	}
	p := packageurl.NewPackageURL(typ, ns, name, version, q, "")
	s := p.ToString()
	// Only emit what parses back: a purl that its own library rejects would
	// make the SBOM worse than none.
	if _, err := packageurl.FromString(s); err != nil {
		return ""
	}
	return s
}

func splitLast(s, sep string) (before, after string) {
	if i := strings.LastIndex(s, sep); i >= 0 {
		return s[:i], s[i+len(sep):]
	}
	return "", s
}

// goVersion restores the "v" that NeuVector strips from Go module versions.
func goVersion(v string) string {
	if v == "" || strings.HasPrefix(v, "v") {
		return v
	}
	return "v" + v
}
