package sim

// Static tables behind the generated reports: the base OSes, the OS packages
// each family ships (under its own package names), and the application
// modules of four ecosystems. Versions are realistic but fixed, so that the
// same digest always yields the same report.

const (
	famDebian = iota
	famUbuntu
	famAlpine
	famRHEL
)

type baseOS struct {
	name    string // the report's base_os (ScanResult.Namespace)
	family  int
	release string // distribution release used in version strings
}

const numBaseOSes = 10

var baseOSes = [numBaseOSes]baseOS{
	{"debian:11", famDebian, "11"},
	{"debian:12", famDebian, "12"},
	{"ubuntu:20.04", famUbuntu, "20.04"},
	{"ubuntu:22.04", famUbuntu, "22.04"},
	{"ubuntu:24.04", famUbuntu, "24.04"},
	{"alpine:3.18", famAlpine, "3.18"},
	{"alpine:3.19", famAlpine, "3.19"},
	{"alpine:3.20", famAlpine, "3.20"},
	{"rhel:8", famRHEL, "8"},
	{"rhel:9", famRHEL, "9"},
}

// osPackage is one upstream project with its binary package name per family
// ("" when the family does not ship it).
type osPackage struct {
	upstream string
	names    [4]string // indexed by family
	version  string    // upstream version
	cpe      string    // "vendor:product", "" when NVD has no CPE for it
}

var osPackages = []osPackage{
	{"openssl", [4]string{"libssl3", "libssl3", "libssl3", "openssl-libs"}, "3.0.11", "openssl:openssl"},
	{"zlib", [4]string{"zlib1g", "zlib1g", "zlib", "zlib"}, "1.2.13", "zlib:zlib"},
	{"curl", [4]string{"libcurl4", "libcurl4", "libcurl", "libcurl"}, "7.88.1", "haxx:libcurl"},
	{"glibc", [4]string{"libc6", "libc6", "", "glibc"}, "2.36", "gnu:glibc"},
	{"musl", [4]string{"", "", "musl", ""}, "1.2.4", "musl-libc:musl"},
	{"busybox", [4]string{"", "", "busybox", ""}, "1.36.1", "busybox:busybox"},
	{"bash", [4]string{"bash", "bash", "bash", "bash"}, "5.2.15", "gnu:bash"},
	{"coreutils", [4]string{"coreutils", "coreutils", "coreutils", "coreutils"}, "9.1", "gnu:coreutils"},
	{"tar", [4]string{"tar", "tar", "tar", "tar"}, "1.34", "gnu:tar"},
	{"gzip", [4]string{"gzip", "gzip", "gzip", "gzip"}, "1.12", "gnu:gzip"},
	{"xz", [4]string{"liblzma5", "liblzma5", "xz-libs", "xz-libs"}, "5.4.1", "tukaani:xz"},
	{"libxml2", [4]string{"libxml2", "libxml2", "libxml2", "libxml2"}, "2.9.14", "xmlsoft:libxml2"},
	{"sqlite", [4]string{"libsqlite3-0", "libsqlite3-0", "sqlite-libs", "sqlite-libs"}, "3.40.1", "sqlite:sqlite"},
	{"perl", [4]string{"perl-base", "perl-base", "perl", "perl-libs"}, "5.36.0", "perl:perl"},
	{"python3", [4]string{"libpython3.11-minimal", "libpython3.10-minimal", "python3", "python3-libs"}, "3.11.2", "python:python"},
	{"systemd", [4]string{"libsystemd0", "libsystemd0", "", "systemd-libs"}, "252.17", "systemd_project:systemd"},
	{"util-linux", [4]string{"util-linux", "util-linux", "util-linux", "util-linux"}, "2.38.1", "kernel:util-linux"},
	{"ncurses", [4]string{"libncursesw6", "libncursesw6", "ncurses-libs", "ncurses-libs"}, "6.4", "gnu:ncurses"},
	{"e2fsprogs", [4]string{"libcom-err2", "libcom-err2", "libcom_err", "libcom_err"}, "1.47.0", "e2fsprogs_project:e2fsprogs"},
	{"krb5", [4]string{"libkrb5-3", "libkrb5-3", "krb5-libs", "krb5-libs"}, "1.20.1", "mit:kerberos_5"},
	{"gnutls", [4]string{"libgnutls30", "libgnutls30", "gnutls", "gnutls"}, "3.7.9", "gnu:gnutls"},
	{"libgcrypt", [4]string{"libgcrypt20", "libgcrypt20", "libgcrypt", "libgcrypt"}, "1.10.1", "gnupg:libgcrypt"},
	{"pcre2", [4]string{"libpcre2-8-0", "libpcre2-8-0", "pcre2", "pcre2"}, "10.42", "pcre:pcre2"},
	{"expat", [4]string{"libexpat1", "libexpat1", "libexpat", "expat"}, "2.5.0", "libexpat_project:libexpat"},
	{"libtasn1", [4]string{"libtasn1-6", "libtasn1-6", "libtasn1", "libtasn1"}, "4.19.0", "gnu:libtasn1"},
	{"nghttp2", [4]string{"libnghttp2-14", "libnghttp2-14", "nghttp2-libs", "libnghttp2"}, "1.52.0", "nghttp2:nghttp2"},
	{"libssh2", [4]string{"libssh2-1", "libssh2-1", "libssh2", "libssh"}, "1.10.0", "libssh2:libssh2"},
	{"openldap", [4]string{"libldap-2.5-0", "libldap-2.5-0", "libldap", "openldap"}, "2.5.13", "openldap:openldap"},
	{"shadow", [4]string{"login", "login", "shadow", "shadow-utils"}, "4.13", "shadow-maint:shadow"},
	{"pam", [4]string{"libpam0g", "libpam0g", "linux-pam", "pam"}, "1.5.2", "linux-pam:linux-pam"},
	{"apk-tools", [4]string{"", "", "apk-tools", ""}, "2.14.0", "alpinelinux:apk-tools"},
	{"dpkg", [4]string{"dpkg", "dpkg", "", ""}, "1.21.22", "debian:dpkg"},
	{"apt", [4]string{"apt", "apt", "", ""}, "2.6.1", "debian:advanced_package_tool"},
	{"rpm", [4]string{"", "", "", "rpm-libs"}, "4.16.1.3", "rpm:rpm"},
	{"gnupg2", [4]string{"gpgv", "gpgv", "gnupg", "gnupg2"}, "2.2.40", "gnupg:gnupg"},
	{"zstd", [4]string{"libzstd1", "libzstd1", "zstd-libs", "libzstd"}, "1.5.4", "facebook:zstandard"},
	{"libcap", [4]string{"libcap2", "libcap2", "libcap", "libcap"}, "2.66", "libcap_project:libcap"},
	{"libseccomp", [4]string{"libseccomp2", "libseccomp2", "libseccomp", "libseccomp"}, "2.5.4", "libseccomp_project:libseccomp"},
	{"libidn2", [4]string{"libidn2-0", "libidn2-0", "libidn2", "libidn2"}, "2.3.3", "gnu:libidn2"},
	{"libffi", [4]string{"libffi8", "libffi8", "libffi", "libffi"}, "3.4.4", "libffi_project:libffi"},
	{"sed", [4]string{"sed", "sed", "sed", "sed"}, "4.9", "gnu:sed"},
	{"grep", [4]string{"grep", "grep", "grep", "grep"}, "3.8", "gnu:grep"},
	{"findutils", [4]string{"findutils", "findutils", "findutils", "findutils"}, "4.9.0", "gnu:findutils"},
	{"procps", [4]string{"procps", "procps", "procps-ng", "procps-ng"}, "4.0.2", "procps_project:procps"},
	{"ca-certificates", [4]string{"ca-certificates", "ca-certificates", "ca-certificates", "ca-certificates"}, "20230311", ""},
	{"tzdata", [4]string{"tzdata", "tzdata", "tzdata", "tzdata"}, "2024a", ""},
}

// Application ecosystems as NeuVector names them in a module's source.
const (
	ecoGolang = iota
	ecoJar
	ecoPython
	ecoNodejs
	numEcosystems
)

var ecosystemNames = [numEcosystems]string{"golang", "jar", "python", "nodejs"}

type appPackage struct {
	eco     int
	name    string
	version string
	file    string // where the scanner found it
	cpe     string // full CPE 2.3 string
	fixes   []string
}

const appPackagesPerEco = 8

// appPackages holds appPackagesPerEco modules per ecosystem, in ecosystem
// order, so that ecosystem e owns indices [e*8, e*8+8).
var appPackages = []appPackage{
	{ecoGolang, "stdlib", "go1.21.3", "usr/local/bin/server", "cpe:2.3:a:golang:go:1.21.3:*:*:*:*:*:*:*", []string{"go1.21.8", "go1.22.1"}},
	{ecoGolang, "golang.org/x/net", "v0.17.0", "usr/local/bin/server", "cpe:2.3:a:golang:networking:0.17.0:*:*:*:*:go:*:*", []string{"v0.23.0"}},
	{ecoGolang, "golang.org/x/crypto", "v0.14.0", "usr/local/bin/server", "cpe:2.3:a:golang:crypto:0.14.0:*:*:*:*:go:*:*", []string{"v0.17.0"}},
	{ecoGolang, "google.golang.org/grpc", "v1.58.2", "usr/local/bin/server", "cpe:2.3:a:grpc:grpc:1.58.2:*:*:*:*:go:*:*", []string{"v1.58.3", "v1.57.1"}},
	{ecoGolang, "github.com/gin-gonic/gin", "v1.9.0", "usr/local/bin/api", "cpe:2.3:a:gin-gonic:gin:1.9.0:*:*:*:*:go:*:*", []string{"v1.9.1"}},
	{ecoGolang, "github.com/docker/docker", "v24.0.6+incompatible", "usr/local/bin/agent", "cpe:2.3:a:docker:docker:24.0.6:*:*:*:*:go:*:*", []string{"v24.0.9+incompatible", "v25.0.2+incompatible"}},
	{ecoGolang, "golang.org/x/text", "v0.13.0", "usr/local/bin/server", "cpe:2.3:a:golang:text:0.13.0:*:*:*:*:go:*:*", []string{"v0.14.0"}},
	{ecoGolang, "google.golang.org/protobuf", "v1.31.0", "usr/local/bin/api", "cpe:2.3:a:golang:protobuf:1.31.0:*:*:*:*:go:*:*", []string{"v1.33.0"}},

	{ecoJar, "org.apache.logging.log4j:log4j-core", "2.14.1", "app/lib/log4j-core-2.14.1.jar", "cpe:2.3:a:apache:log4j:2.14.1:*:*:*:*:*:*:*", []string{"2.17.1", "2.12.4", "2.3.2"}},
	{ecoJar, "com.fasterxml.jackson.core:jackson-databind", "2.13.2", "app/lib/jackson-databind-2.13.2.jar", "cpe:2.3:a:fasterxml:jackson-databind:2.13.2:*:*:*:*:*:*:*", []string{"2.13.4.2", "2.12.7.1"}},
	{ecoJar, "org.springframework:spring-web", "5.3.20", "app/lib/spring-web-5.3.20.jar", "cpe:2.3:a:vmware:spring_framework:5.3.20:*:*:*:*:*:*:*", []string{"5.3.32", "6.0.17"}},
	{ecoJar, "org.yaml:snakeyaml", "1.30", "app/lib/snakeyaml-1.30.jar", "cpe:2.3:a:snakeyaml_project:snakeyaml:1.30:*:*:*:*:*:*:*", []string{"2.0", "1.33"}},
	{ecoJar, "io.netty:netty-codec-http", "4.1.77.Final", "app/lib/netty-codec-http-4.1.77.Final.jar", "cpe:2.3:a:netty:netty:4.1.77:*:*:*:*:*:*:*", []string{"4.1.100.Final", "4.1.108.Final"}},
	{ecoJar, "org.apache.tomcat.embed:tomcat-embed-core", "9.0.62", "app/lib/tomcat-embed-core-9.0.62.jar", "cpe:2.3:a:apache:tomcat:9.0.62:*:*:*:*:*:*:*", []string{"9.0.86", "10.1.19", "8.5.99"}},
	{ecoJar, "com.google.guava:guava", "31.0-jre", "app/lib/guava-31.0-jre.jar", "cpe:2.3:a:google:guava:31.0:*:*:*:*:*:*:*", []string{"32.0.0-android", "32.0.0-jre"}},
	{ecoJar, "commons-io:commons-io", "2.7", "app/lib/commons-io-2.7.jar", "cpe:2.3:a:apache:commons_io:2.7:*:*:*:*:*:*:*", []string{"2.14.0"}},

	{ecoPython, "requests", "2.25.1", "usr/lib/python3/site-packages/requests-2.25.1.dist-info/METADATA", "cpe:2.3:a:python:requests:2.25.1:*:*:*:*:*:*:*", []string{"2.31.0", "2.32.0"}},
	{ecoPython, "urllib3", "1.26.5", "usr/lib/python3/site-packages/urllib3-1.26.5.dist-info/METADATA", "cpe:2.3:a:python:urllib3:1.26.5:*:*:*:*:*:*:*", []string{"1.26.18", "2.0.7"}},
	{ecoPython, "cryptography", "39.0.1", "usr/lib/python3/site-packages/cryptography-39.0.1.dist-info/METADATA", "cpe:2.3:a:cryptography_project:cryptography:39.0.1:*:*:*:*:*:*:*", []string{"41.0.6", "42.0.4"}},
	{ecoPython, "jinja2", "3.1.2", "usr/lib/python3/site-packages/Jinja2-3.1.2.dist-info/METADATA", "cpe:2.3:a:palletsprojects:jinja:3.1.2:*:*:*:*:*:*:*", []string{"3.1.4"}},
	{ecoPython, "pillow", "9.5.0", "usr/lib/python3/site-packages/Pillow-9.5.0.dist-info/METADATA", "cpe:2.3:a:python:pillow:9.5.0:*:*:*:*:*:*:*", []string{"10.0.1", "10.2.0"}},
	{ecoPython, "setuptools", "65.5.0", "usr/lib/python3/site-packages/setuptools-65.5.0.dist-info/METADATA", "cpe:2.3:a:python:setuptools:65.5.0:*:*:*:*:*:*:*", []string{"65.5.1", "70.0.0"}},
	{ecoPython, "certifi", "2022.12.7", "usr/lib/python3/site-packages/certifi-2022.12.7.dist-info/METADATA", "cpe:2.3:a:certifi:certifi:2022.12.7:*:*:*:*:*:*:*", []string{"2023.7.22"}},
	{ecoPython, "pyyaml", "5.3.1", "usr/lib/python3/site-packages/PyYAML-5.3.1.dist-info/METADATA", "cpe:2.3:a:pyyaml:pyyaml:5.3.1:*:*:*:*:*:*:*", []string{"5.4"}},

	{ecoNodejs, "lodash", "4.17.15", "app/node_modules/lodash/package.json", "cpe:2.3:a:lodash:lodash:4.17.15:*:*:*:*:node.js:*:*", []string{"4.17.21", "4.17.19"}},
	{ecoNodejs, "express", "4.17.1", "app/node_modules/express/package.json", "cpe:2.3:a:expressjs:express:4.17.1:*:*:*:*:node.js:*:*", []string{"4.19.2", "5.0.0-beta.3"}},
	{ecoNodejs, "axios", "0.21.1", "app/node_modules/axios/package.json", "cpe:2.3:a:axios:axios:0.21.1:*:*:*:*:node.js:*:*", []string{"0.21.2", "1.6.0"}},
	{ecoNodejs, "minimist", "1.2.5", "app/node_modules/minimist/package.json", "cpe:2.3:a:minimist_project:minimist:1.2.5:*:*:*:*:node.js:*:*", []string{"1.2.6"}},
	{ecoNodejs, "semver", "7.3.7", "app/node_modules/semver/package.json", "cpe:2.3:a:npmjs:semver:7.3.7:*:*:*:*:node.js:*:*", []string{"7.5.2", "6.3.1", "5.7.2"}},
	{ecoNodejs, "jsonwebtoken", "8.5.1", "app/node_modules/jsonwebtoken/package.json", "cpe:2.3:a:auth0:jsonwebtoken:8.5.1:*:*:*:*:node.js:*:*", []string{"9.0.0"}},
	{ecoNodejs, "tar", "6.1.0", "app/node_modules/tar/package.json", "cpe:2.3:a:npmjs:tar:6.1.0:*:*:*:*:node.js:*:*", []string{"6.1.9", "5.0.10", "4.4.18"}},
	{ecoNodejs, "ws", "7.4.5", "app/node_modules/ws/package.json", "cpe:2.3:a:ws_project:ws:7.4.5:*:*:*:*:node.js:*:*", []string{"7.4.6", "8.17.1"}},
}
