package translate

// Wire types of the NeuVector controller REST API subset this project speaks
// (controller-api.md §13). Field names follow the controller's JSON exactly;
// the simulator and the client share them so a drift shows up in both.

// RESTError is the body of every controller error response.
type RESTError struct {
	Code    int    `json:"code"`
	Error   string `json:"error"`
	Message string `json:"message"`
}

// AuthPassword is RESTAuthPassword.
type AuthPassword struct {
	Username    string `json:"username"`
	Password    string `json:"password"`
	NewPassword string `json:"new_password,omitempty"`
}

// AuthData is the body of POST /v1/auth.
type AuthData struct {
	ClientIP string        `json:"client_ip"`
	Password *AuthPassword `json:"password,omitempty"`
}

// Permission is one entry of global_permissions.
type Permission struct {
	ID    string `json:"id"`
	Read  bool   `json:"read"`
	Write bool   `json:"write"`
}

// Token is RESTToken (with the embedded RESTUser fields we read).
type Token struct {
	Token             string       `json:"token"`
	GlobalPermissions []Permission `json:"global_permissions"`
	Fullname          string       `json:"fullname"`
	Username          string       `json:"username"`
	Role              string       `json:"role"`
	Timeout           uint32       `json:"timeout"`
	DefaultPassword   bool         `json:"default_password"`
	ModifyPassword    bool         `json:"modify_password"`
}

// TokenData is the 200 body of POST /v1/auth.
type TokenData struct {
	Token                    *Token `json:"token"`
	PasswordDaysUntilExpire  int    `json:"password_days_until_expire"`
	PasswordHoursUntilExpire int    `json:"password_hours_until_expire"`
	NeedToResetPassword      bool   `json:"need_to_reset_password"`
}

// ScanMeta is RESTScanMeta.
type ScanMeta struct {
	Source    string `json:"source"`
	User      string `json:"user"`
	Job       string `json:"job"`
	Workspace string `json:"workspace"`
	Function  string `json:"function"`
	Region    string `json:"region"`
}

// ScanRepoRequest is the "request" object of POST /v1/scan/repository.
type ScanRepoRequest struct {
	Metadata    *ScanMeta `json:"metadata,omitempty"`
	Registry    string    `json:"registry"`
	Username    string    `json:"username,omitempty"`
	Password    string    `json:"password,omitempty"`
	Repository  string    `json:"repository"`
	Tag         string    `json:"tag"`
	ScanLayers  bool      `json:"scan_layers"`
	BaseImage   string    `json:"base_image"`
	IgnoreProxy *bool     `json:"ignore_proxy,omitempty"`
}

// ScanRepoReqData is the body of POST /v1/scan/repository.
type ScanRepoReqData struct {
	Request *ScanRepoRequest `json:"request"`
}

// ScanRepoReportData is the 200 body of POST /v1/scan/repository.
type ScanRepoReportData struct {
	Report *ScanRepoReport `json:"report"`
}

// Vulnerability is RESTVulnerability (§13.5).
type Vulnerability struct {
	Name                  string   `json:"name"`
	Score                 float32  `json:"score"`
	Severity              string   `json:"severity"`
	Vectors               string   `json:"vectors"`
	Description           string   `json:"description"`
	FileName              string   `json:"file_name"`
	PackageName           string   `json:"package_name"`
	PackageVersion        string   `json:"package_version"`
	FixedVersion          string   `json:"fixed_version"`
	Link                  string   `json:"link"`
	ScoreV3               float32  `json:"score_v3"`
	VectorsV3             string   `json:"vectors_v3"`
	PublishedTimestamp    int64    `json:"published_timestamp"`
	LastModifiedTimestamp int64    `json:"last_modified_timestamp"`
	CPEs                  []string `json:"cpes,omitempty"`
	CVEs                  []string `json:"cves,omitempty"`
	FeedRating            string   `json:"feed_rating"`
	InBaseImage           bool     `json:"in_base_image,omitempty"`
	Tags                  []string `json:"tags,omitempty"`
}

// ModuleCVE is one CVE status of a module.
type ModuleCVE struct {
	Name   string `json:"name"`
	Status string `json:"status"` // "unpatched" | "fix exists" | "will not fix" | "unaffected"
}

// Module is one entry of the report's module inventory (OS package or
// application module).
type Module struct {
	Name    string      `json:"name"`
	File    string      `json:"file"`
	Version string      `json:"version"`
	Source  string      `json:"source"`
	CVEs    []ModuleCVE `json:"cves,omitempty"`
	CPEs    []string    `json:"cpes,omitempty"`
}

// ScanLayer is one layer of a report (empty unless scan_layers).
type ScanLayer struct {
	Digest          string          `json:"digest"`
	Cmds            string          `json:"cmds"`
	Vulnerabilities []Vulnerability `json:"vulnerabilities"`
	Size            int64           `json:"size"`
}

// Secret is one secret finding.
type Secret struct {
	Type       string `json:"type"`
	Evidence   string `json:"evidence"`
	Path       string `json:"path"`
	Suggestion string `json:"suggestion"`
}

// SetidPerm is one setuid/setgid finding.
type SetidPerm struct {
	Type     string `json:"type"`
	Evidence string `json:"evidence"`
	Path     string `json:"path"`
}

// BenchItem is RESTBenchItem (image compliance check).
type BenchItem struct {
	TestNum     string   `json:"test_number"`
	Category    string   `json:"category"`
	Type        string   `json:"type"`
	Profile     string   `json:"profile"`
	Scored      bool     `json:"scored"`
	Automated   bool     `json:"automated"`
	Description string   `json:"description"`
	Remediation string   `json:"remediation"`
	Level       string   `json:"level"`
	Evidence    string   `json:"evidence,omitempty"`
	Location    string   `json:"location,omitempty"`
	Message     []string `json:"message"`
	Group       string   `json:"group,omitempty"`
}

// SignatureData is the report's signature verification block.
type SignatureData struct {
	Verifiers             []string `json:"verifiers,omitempty"`
	VerificationTimestamp string   `json:"verification_timestamp,omitempty"`
}

// ScanRepoReport is RESTScanRepoReport (§13.4).
type ScanRepoReport struct {
	Verdict         string            `json:"verdict,omitempty"`
	ImageID         string            `json:"image_id"`
	Registry        string            `json:"registry"`
	Repository      string            `json:"repository"`
	Tag             string            `json:"tag"`
	Digest          string            `json:"digest"`
	Size            int64             `json:"size"`
	Author          string            `json:"author"`
	BaseOS          string            `json:"base_os"`
	CreatedAt       string            `json:"created_at"`
	CVEDBVersion    string            `json:"cvedb_version"`
	CVEDBCreateTime string            `json:"cvedb_create_time"`
	Layers          []ScanLayer       `json:"layers"`
	OSScanStatus    string            `json:"os_scan_status,omitempty"`
	Vulnerabilities []Vulnerability   `json:"vulnerabilities"`
	Modules         []Module          `json:"modules,omitempty"`
	Checks          []BenchItem       `json:"checks,omitempty"`
	Secrets         []Secret          `json:"secrets,omitempty"`
	SetidPerms      []SetidPerm       `json:"setid_perms,omitempty"`
	Envs            []string          `json:"envs,omitempty"`
	Labels          map[string]string `json:"labels,omitempty"`
	Cmds            []string          `json:"cmds,omitempty"`
	SignatureData   *SignatureData    `json:"signature_data"`
}

// ScanReport is RESTScanReport, the body of GET
// /v1/scan/registry/{name}/image/{id} (no image metadata, no layers).
type ScanReport struct {
	OSScanStatus    string            `json:"os_scan_status,omitempty"`
	Vulnerabilities []Vulnerability   `json:"vulnerabilities"`
	Modules         []Module          `json:"modules,omitempty"`
	Checks          []BenchItem       `json:"checks,omitempty"`
	Secrets         []Secret          `json:"secrets,omitempty"`
	SetidPerms      []SetidPerm       `json:"setid_perms,omitempty"`
	Envs            []string          `json:"envs,omitempty"`
	Labels          map[string]string `json:"labels,omitempty"`
	Cmds            []string          `json:"cmds,omitempty"`
	SignatureData   *SignatureData    `json:"signature_data"`
}

// ScanReportData is the body of GET /v1/scan/registry/{name}/image/{id}.
type ScanReportData struct {
	Report *ScanReport `json:"report"`
}

// RegistryImageSummary is RESTRegistryImageSummary (with the embedded
// RESTScanBrief), one entry of GET /v1/scan/registry/{name}/images.
type RegistryImageSummary struct {
	Domain           string            `json:"domain"`
	Repository       string            `json:"repository"`
	Tag              string            `json:"tag"`
	ImageID          string            `json:"image_id"`
	Digest           string            `json:"digest"`
	Size             int64             `json:"size"`
	Author           string            `json:"author"`
	RunAsRoot        bool              `json:"run_as_root"`
	CreatedAt        string            `json:"created_at"`
	Envs             []string          `json:"envs"`
	Labels           map[string]string `json:"labels"`
	Layers           []string          `json:"layers"`
	Status           string            `json:"status"`
	Critical         int               `json:"critical"`
	High             int               `json:"high"`
	Medium           int               `json:"medium"`
	Result           string            `json:"result"`
	ScannedTimeStamp int64             `json:"scanned_timestamp"`
	ScannedAt        string            `json:"scanned_at"`
	BaseOS           string            `json:"base_os"`
	ScannerVersion   string            `json:"scanner_version"`
	CVEDBCreateTime  string            `json:"cvedb_create_time"`
	OSScanStatus     string            `json:"os_scan_status"`
}

// RegistryImagesData is the body of GET /v1/scan/registry/{name}/images.
type RegistryImagesData struct {
	Images []RegistryImageSummary `json:"images"`
}

// SystemSummary is the part of RESTSystemSummary the adapter reads.
type SystemSummary struct {
	Hosts           int    `json:"hosts"`
	Controllers     int    `json:"controllers"`
	Scanners        int    `json:"scanners"`
	CVEDBVersion    string `json:"cvedb_version"`
	CVEDBCreateTime string `json:"cvedb_create_time"`
}

// SystemSummaryData is the body of GET /v1/system/summary.
type SystemSummaryData struct {
	Summary *SystemSummary `json:"summary"`
}

// Controller error codes (controller/api/apis.go) that the adapter and the
// simulator use.
const (
	CodeURLNotFound        = 1
	CodeMethodNotAllowed   = 2
	CodeAuthFailed         = 3
	CodeTooManyLoginUsers  = 5
	CodeWrongFormat        = 6
	CodeObjectNotFound     = 7
	CodeClusterRPCError    = 24
	CodeObjectAccessDenied = 25
	CodeFailScanRepository = 26
	CodeLoginBlocked       = 47
	CodePasswordExpired    = 48
	CodeJobNotFound        = 54
	CodeServerError        = 55
)

// ControllerErrorText is the controller's fixed string for a code
// (rest.go restErrMessage). Only code 26 carries a message safe to show:
// other messages may echo the request, password included.
func ControllerErrorText(code int) string {
	switch code {
	case CodeURLNotFound:
		return "URL not found"
	case CodeMethodNotAllowed:
		return "Method not allowed"
	case CodeAuthFailed:
		return "Authentication failed"
	case CodeTooManyLoginUsers:
		return "Too many login users"
	case CodeWrongFormat:
		return "Request in wrong format"
	case CodeObjectNotFound:
		return "Object not found"
	case 9:
		return "Read from cluster failed"
	case 11:
		return "Request to cluster timeout"
	case CodeClusterRPCError:
		return "Cluster RPC error"
	case CodeObjectAccessDenied:
		return "Object access denied"
	case CodeFailScanRepository:
		return "Fail to scan repository"
	case 27:
		return "Fail to scan registry"
	case 37:
		return "Authentication to the remote cluster failed"
	case CodeLoginBlocked:
		return "Temporarily blocked because of too many login failures"
	case CodePasswordExpired:
		return "Password expired"
	case CodeJobNotFound:
		return "Job not found in the Job Queue"
	case CodeServerError:
		return "Server Error"
	}
	return "Unknown error"
}
